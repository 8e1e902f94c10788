import { describe, expect, test } from "bun:test"
import * as Controller from "./Controller.ts"
import { takeToken } from "./EventRecorder.ts"
import { parseAddress } from "./Endpoints.ts"

const pod = {
  metadata: {
    name: "c-1", namespace: "ns", labels: { "tusk.dev/cluster": "c" },
    ownerReferences: [
      { apiVersion: "postgresql.tusk.dev/v1", kind: "Cluster", name: "c", uid: "u", controller: true },
      { apiVersion: "apps/v1", kind: "Cluster", name: "not-ours", uid: "v" },
      { junk: true },
    ],
  },
}

describe("Controller", () => {
  test("ownerKeys maps an owned object to its owner's key, by kind and group", () => {
    expect(Controller.ownerKeys("Cluster", "postgresql.tusk.dev")(pod)).toEqual(["ns/c"])
    expect(Controller.labelKey("tusk.dev/cluster")(pod)).toEqual(["ns/c"])
    expect(Controller.labelKey("other")(pod)).toEqual([])
  })

  test("specChanged ignores status-only updates of objects with a generation", () => {
    const v1 = { metadata: { name: "c", generation: 1, labels: { a: "1" } } }
    expect(Controller.specChanged({ _tag: "Modified", old: v1, object: { metadata: { ...v1.metadata } } })).toBe(false)
    expect(Controller.specChanged({ _tag: "Modified", old: v1, object: { metadata: { ...v1.metadata, generation: 2 } } })).toBe(true)
    expect(Controller.specChanged({ _tag: "Modified", old: v1, object: { metadata: { ...v1.metadata, labels: { a: "2" } } } })).toBe(true)
    expect(Controller.specChanged({ _tag: "Modified", old: v1, object: { metadata: { ...v1.metadata, deletionTimestamp: "now" } } })).toBe(true)
    expect(Controller.specChanged({ _tag: "Added", object: v1 })).toBe(true)
    expect(Controller.specChanged({ _tag: "Modified", old: { metadata: {} }, object: { metadata: {} } })).toBe(true)
  })
})

describe("EventRecorder token bucket", () => {
  test("allows a burst, then one per refill interval", () => {
    let bucket = { tokens: 3, at: 0 }
    const take = (now: number) => {
      const r = takeToken(bucket, now, 3, 1000)
      bucket = r.bucket
      return r.ok
    }
    expect([take(0), take(0), take(0), take(0)]).toEqual([true, true, true, false])
    expect(take(500)).toBe(false)
    expect(take(1000)).toBe(true)
    expect(take(100_000)).toBe(true)
    expect(bucket.tokens).toBe(2) // capped at the burst, minus the one taken
  })
})

describe("Endpoints.parseAddress", () => {
  test("controller-runtime style bind addresses", () => {
    expect(parseAddress(":8080")).toEqual({ hostname: "0.0.0.0", port: 8080 })
    expect(parseAddress("127.0.0.1:0")).toEqual({ hostname: "127.0.0.1", port: 0 })
    expect(parseAddress("[::1]:9")).toEqual({ hostname: "::1", port: 9 })
    expect(parseAddress("0")).toBeUndefined()
    expect(parseAddress("x:y")).toBeUndefined()
  })
})
