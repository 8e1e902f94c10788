import { describe, expect, test } from "bun:test"
import { synchronousStandbyNames } from "./SynchronousStandbyNames.ts"

const base = { self: "c-1", instances: ["c-1", "c-2", "c-3"], streaming: ["c-2"] }

describe("synchronousStandbyNames", () => {
  test("asynchronous when nothing is configured", () => {
    expect(synchronousStandbyNames(base)).toBe("")
  })
  test("required durability lists every other instance and keeps the number", () => {
    expect(synchronousStandbyNames({ ...base, synchronous: { method: "any", number: 2 } })).toBe('ANY 2 ("c-2","c-3")')
    expect(synchronousStandbyNames({ ...base, synchronous: { method: "first", number: 1, dataDurability: "required" } }))
      .toBe('FIRST 1 ("c-2","c-3")')
  })
  test("preferred durability lists only streaming standbys and shrinks the number", () => {
    expect(synchronousStandbyNames({ ...base, synchronous: { method: "any", number: 2, dataDurability: "preferred" } }))
      .toBe('ANY 1 ("c-2")')
    expect(synchronousStandbyNames({ ...base, streaming: [], synchronous: { method: "first", number: 1, dataDurability: "preferred" } }))
      .toBe("")
  })
  test("legacy min/max clamps the streaming count", () => {
    expect(synchronousStandbyNames({ ...base, minSyncReplicas: 1, maxSyncReplicas: 2 })).toBe('ANY 1 ("c-2","c-3")')
    expect(synchronousStandbyNames({ ...base, streaming: ["c-2", "c-3"], minSyncReplicas: 1, maxSyncReplicas: 2 }))
      .toBe('ANY 2 ("c-2","c-3")')
    expect(synchronousStandbyNames({ ...base, streaming: [], minSyncReplicas: 1, maxSyncReplicas: 2 })).toBe('ANY 1 ("c-2","c-3")')
    expect(synchronousStandbyNames({ ...base, minSyncReplicas: 0, maxSyncReplicas: 0 })).toBe("")
  })
  test("a single instance has no standbys", () => {
    expect(synchronousStandbyNames({ self: "c-1", instances: ["c-1"], streaming: [], synchronous: { method: "any", number: 1 } })).toBe("")
  })
  test("names are quoted", () => {
    expect(synchronousStandbyNames({ self: "a", instances: ["a", 'b"x'], streaming: [], synchronous: { method: "any", number: 1 } }))
      .toBe('ANY 1 ("b""x")')
  })
})
