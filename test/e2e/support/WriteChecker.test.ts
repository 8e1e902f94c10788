import { describe, expect, test } from "bun:test"
import { parseAttempts, report } from "./WriteChecker.ts"

describe("WriteChecker", () => {
  const output = ["1 ok 1000 1010 10.0.0.1", "2 ok 1100 1110 10.0.0.1", "3 fail 1200 3200", "4 ok 3300 3310 10.0.0.2", "5 ok 3400 3410 10.0.0.2", "done"].join("\n")

  test("parses the loop's lines", () => {
    const attempts = parseAttempts(output)
    expect(attempts.map((a) => [a.id, a.ok, a.server])).toEqual([[1, true, "10.0.0.1"], [2, true, "10.0.0.1"], [3, false, undefined], [4, true, "10.0.0.2"], [5, true, "10.0.0.2"]])
  })

  test("a clean failover: nothing lost, one hand-over, the gap between acknowledgements", () => {
    const r = report(parseAttempts(output), [1, 2, 4, 5])
    expect([r.lost, r.duplicated, r.writers, r.doubleWriters, r.unavailableMs, r.committedUnacknowledged]).toEqual([[], [], ["10.0.0.1", "10.0.0.2"], false, 2200, 0])
  })

  test("lost acknowledged rows, a committed unacknowledged one and a second writer are reported", () => {
    const split = parseAttempts(output.replace("5 ok 3400 3410 10.0.0.2", "5 ok 3400 3410 10.0.0.1"))
    const r = report(split, [1, 3, 4, 5, 5])
    expect(r.lost).toEqual([2])
    expect(r.committedUnacknowledged).toBe(1)
    expect(r.duplicated).toEqual([5])
    expect(r.doubleWriters).toBe(true)
  })
})
