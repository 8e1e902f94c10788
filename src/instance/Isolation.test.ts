import { describe, expect, test } from "bun:test"
import { unreachableStoppedAfterMs } from "../api/Fencing.ts"
import { checkIntervalMs, fastShutdownMs, isIsolated, isolationTimeoutMs, peerConfirmation } from "./Isolation.ts"
import type { PgStatus } from "./status/PgStatus.ts"

describe("Isolation", () => {
  test("a primary must stop only after the bound without confirmation, and only with peers", () => {
    expect(isIsolated(0, isolationTimeoutMs - 1, true)).toBe(false)
    expect(isIsolated(0, isolationTimeoutMs, true)).toBe(true)
    expect(isIsolated(0, 60_000, false)).toBe(false)
  })

  test("a cut-off primary has stopped before the operator may treat it as stopped", () => {
    const checkTick = checkIntervalMs
    expect(isolationTimeoutMs + checkTick + fastShutdownMs).toBeLessThan(unreachableStoppedAfterMs)
  })

  test("a peer's confirmation is dated from when it was asked, minus its age", () => {
    const status = { confirmedLeader: "c-1", apiContactAgeMs: 300 } as PgStatus
    expect(peerConfirmation(status, 10_000)).toEqual({ leader: "c-1", at: 9_700 })
    expect(peerConfirmation({ ...status, apiContactAgeMs: null }, 10_000)).toBeUndefined()
  })
})
