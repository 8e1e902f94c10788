import { describe, expect, test } from "bun:test"
import { parseLogLine, toJsonLine } from "./PostgresLog.ts"

describe("PostgresLog", () => {
  test("splits Tusk's log_line_prefix into fields", () => {
    expect(parseLogLine("2026-11-29 11:18:32.205 GMT [26303] postgres@app FATAL:  Peer authentication failed")).toEqual({
      ts: "2026-11-29 11:18:32.205 GMT",
      pid: 26303,
      user: "postgres",
      database: "app",
      severity: "FATAL",
      msg: "Peer authentication failed"
    })
    expect(parseLogLine("2026-11-29 11:18:32.222 GMT [26293] LOG:  shutting down")).toEqual({
      ts: "2026-11-29 11:18:32.222 GMT",
      pid: 26293,
      severity: "LOG",
      msg: "shutting down"
    })
  })
  test("continuation lines keep only the message", () => {
    expect(parseLogLine("\tselect 1")).toEqual({ msg: "\tselect 1" })
  })
  test("one JSON object per line with the instance name", () => {
    const line = toJsonLine("c-1", "2026-11-29 11:18:32.222 GMT [1] LOG:  a \"quoted\" message")
    expect(line.endsWith("\n")).toBe(true)
    expect(JSON.parse(line)).toMatchObject({ logger: "postgres", instance: "c-1", severity: "LOG", msg: 'a "quoted" message' })
  })
})
