/**
 * coordination.k8s.io/v1 Lease and the pure rule of leader election over it: given the
 * lease as last observed and the local clock, may this candidate take or renew it, and
 * with what record.
 */
import { Schema } from "effect"
import { ObjectMeta } from "./ObjectMeta.ts"
import * as Resource from "./Resource.ts"

/** coordination.k8s.io/v1 LeaseSpec. */
export const LeaseSpec = Schema.Struct({
  holderIdentity: Schema.optional(Schema.NullOr(Schema.String)),
  leaseDurationSeconds: Schema.optional(Schema.NullOr(Schema.Number)),
  acquireTime: Schema.optional(Schema.NullOr(Schema.String)),
  renewTime: Schema.optional(Schema.NullOr(Schema.String)),
  leaseTransitions: Schema.optional(Schema.NullOr(Schema.Number)),
})
export type LeaseSpec = typeof LeaseSpec.Type

/** coordination.k8s.io/v1 Lease. */
export const Lease = Schema.Struct({
  apiVersion: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  metadata: ObjectMeta,
  spec: Schema.optionalWith(LeaseSpec, { default: () => ({}) }),
})
export type Lease = typeof Lease.Type

/** The Lease resource. */
export const leases = Resource.make(
  { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
  Lease,
)

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")

/** What the candidate last saw of the lease, and when (by its own clock, as client-go does). */
export interface Observation {
  readonly spec: LeaseSpec
  readonly at: number
}

/** Outcome of one look at the lease. */
export type Decision =
  | { readonly _tag: "Take"; readonly spec: LeaseSpec }
  | { readonly _tag: "Wait"; readonly holder: string; readonly expiresAt: number }

/**
 * Decide on the current lease. Expiry is judged by how long the record has gone unchanged
 * on the local clock (`observed.at`), never by comparing clocks with the holder.
 */
export const decide = (
  identity: string,
  leaseDurationSeconds: number,
  current: LeaseSpec,
  observed: Observation,
  now: number,
): Decision => {
  const holder = current.holderIdentity ?? ""
  const duration = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000
  if (holder !== "" && holder !== identity && observed.at + duration > now) {
    return { _tag: "Wait", holder, expiresAt: observed.at + duration }
  }
  const mine = holder === identity
  return {
    _tag: "Take",
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: mine && current.acquireTime ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (current.leaseTransitions ?? 0) + (mine ? 0 : 1),
    },
  }
}

/** Whether the record changed since it was observed (then the observation restarts). */
export const changed = (a: LeaseSpec, b: LeaseSpec): boolean =>
  (a.holderIdentity ?? "") !== (b.holderIdentity ?? "") || (a.renewTime ?? "") !== (b.renewTime ?? "") ||
  (a.leaseTransitions ?? 0) !== (b.leaseTransitions ?? 0)

/** The record that gives the lease up on shutdown: no holder, expiring at once. */
export const released = (current: LeaseSpec, now: number): LeaseSpec => ({
  holderIdentity: null,
  leaseDurationSeconds: 1,
  acquireTime: microTime(now),
  renewTime: microTime(now),
  leaseTransitions: current.leaseTransitions ?? 0,
})
