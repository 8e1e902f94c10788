import { describe, expect, test } from "bun:test"
import { next, stallMs } from "./ReceiverWatch.ts"

describe("ReceiverWatch", () => {
  test("a streaming receiver is left alone and forgets any stall", () => {
    expect(next({ since: 0, primary: "c-1" }, { streaming: true, primary: "c-1", now: 60_000 })).toEqual({ watch: undefined, restart: false })
  })

  test("a receiver not streaming is restarted once it has not for the stall bound, then watched afresh", () => {
    const first = next(undefined, { streaming: false, primary: "c-1", now: 1_000 })
    expect(first).toEqual({ watch: { since: 1_000, primary: "c-1" }, restart: false })
    expect(next(first.watch, { streaming: false, primary: "c-1", now: 1_000 + stallMs - 1 }).restart).toBe(false)
    const stalled = next(first.watch, { streaming: false, primary: "c-1", now: 1_000 + stallMs })
    expect(stalled).toEqual({ watch: { since: 1_000 + stallMs, primary: "c-1" }, restart: true })
    expect(next(stalled.watch, { streaming: false, primary: "c-1", now: 1_000 + stallMs + 10 }).restart).toBe(false)
  })

  test("a new primary recorded restarts a receiver that is not streaming at once", () => {
    const watch = next(undefined, { streaming: false, primary: "c-1", now: 0 }).watch
    expect(next(watch, { streaming: false, primary: "c-2", now: 10 })).toEqual({ watch: { since: 10, primary: "c-2" }, restart: true })
  })
})
