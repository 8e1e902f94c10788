import { describe, expect, test } from "bun:test"
import { sameJson, statusDelta } from "./Act.ts"

// A healthy Cluster's status as the API server returns it: map keys sorted.
const stored = {
  phase: "Cluster in healthy state",
  instancesStatus: { failed: [], healthy: ["c-1", "c-2", "c-3"] },
  certificates: { expirations: { "c-ca": "2027-11-29T12:30:43.000Z", "c-replication": "2027-02-27T12:30:43.000Z", "c-server": "2027-02-27T12:30:43.000Z" } },
  conditions: [{ lastTransitionTime: "2026-11-29T12:31:28.766Z", message: "Cluster is Ready", observedGeneration: 1, reason: "ClusterIsReady", status: "True", type: "Ready" }],
}

// The same status as the plan builds it: keys in the plan's order.
const planned = {
  phase: "Cluster in healthy state",
  instancesStatus: { healthy: ["c-1", "c-2", "c-3"], failed: [] },
  certificates: { expirations: { "c-ca": "2027-11-29T12:30:43.000Z", "c-server": "2027-02-27T12:30:43.000Z", "c-replication": "2027-02-27T12:30:43.000Z" } },
  conditions: [{ type: "Ready", status: "True", reason: "ClusterIsReady", message: "Cluster is Ready", lastTransitionTime: "2026-11-29T12:31:28.766Z", observedGeneration: 1 }],
}

describe("statusDelta", () => {
  test("the same status with keys in another order is no change", () => {
    expect(statusDelta(stored, planned)).toBeUndefined()
  })

  test("a changed nested value, a new key, or a reordered list is a change of that field only", () => {
    expect(statusDelta(stored, { ...planned, instancesStatus: { healthy: ["c-1", "c-2"], failed: ["c-3"] } })).toEqual({
      instancesStatus: { healthy: ["c-1", "c-2"], failed: ["c-3"] },
    })
    expect(statusDelta(stored, { ...planned, phaseReason: "x" })).toEqual({ phaseReason: "x" })
    expect(statusDelta(stored, { ...planned, instancesStatus: { healthy: ["c-3", "c-2", "c-1"], failed: [] } })).toEqual({
      instancesStatus: { healthy: ["c-3", "c-2", "c-1"], failed: [] },
    })
  })
})

describe("sameJson", () => {
  test("absent and undefined keys are alike, as in JSON; null and types are not", () => {
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true)
    expect(sameJson({ a: null }, {})).toBe(false)
    expect(sameJson({ a: 1 }, { a: "1" })).toBe(false)
    expect(sameJson([], {})).toBe(false)
    expect(sameJson({ a: { b: [1, { c: 2, d: 3 }] } }, { a: { b: [1, { d: 3, c: 2 }] } })).toBe(true)
  })
})
