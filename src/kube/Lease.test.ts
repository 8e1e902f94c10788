import { describe, expect, test } from "bun:test"
import * as Lease from "./Lease.ts"

const t0 = Date.parse("2026-01-01T00:00:00Z")
const held = (holder: string, renewAt = t0): Lease.LeaseSpec => ({
  holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: Lease.microTime(t0), renewTime: Lease.microTime(renewAt), leaseTransitions: 3,
})

describe("Lease.decide", () => {
  test("MicroTime has six fractional digits", () => {
    expect(Lease.microTime(t0 + 123)).toBe("2026-01-01T00:00:00.123000Z")
  })

  test("a lease held by another waits until it went unrenewed for its duration, by our clock", () => {
    const spec = held("b")
    const observed = { spec, at: t0 + 5_000 } // we saw it late: our clock counts from then
    expect(Lease.decide("a", 15, spec, observed, t0 + 19_999)).toEqual({ _tag: "Wait", holder: "b", expiresAt: t0 + 20_000 })
    const take = Lease.decide("a", 15, spec, observed, t0 + 20_001)
    expect(take).toEqual({
      _tag: "Take",
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: Lease.microTime(t0 + 20_001), renewTime: Lease.microTime(t0 + 20_001), leaseTransitions: 4 },
    })
  })

  test("the holder renews, keeping acquireTime and the transition count", () => {
    const spec = held("a")
    const d = Lease.decide("a", 15, spec, { spec, at: t0 }, t0 + 2_000)
    expect(d._tag === "Take" && [d.spec.acquireTime, d.spec.renewTime, d.spec.leaseTransitions]).toEqual([
      Lease.microTime(t0), Lease.microTime(t0 + 2_000), 3,
    ])
  })

  test("a released lease (no holder) is taken at once", () => {
    const spec = Lease.released(held("b"), t0)
    expect(spec.holderIdentity).toBeNull()
    expect(spec.leaseDurationSeconds).toBe(1)
    const d = Lease.decide("a", 15, spec, { spec, at: t0 }, t0 + 1)
    expect(d._tag === "Take" && d.spec.leaseTransitions).toBe(4)
  })

  test("any renewal restarts the observation", () => {
    expect(Lease.changed(held("b", t0), held("b", t0 + 2_000))).toBe(true)
    expect(Lease.changed(held("b"), held("c"))).toBe(true)
    expect(Lease.changed(held("b"), held("b"))).toBe(false)
  })
})
