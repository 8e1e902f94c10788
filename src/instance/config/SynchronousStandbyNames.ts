/** `synchronous_standby_names` from `spec.postgresql.synchronous` or the legacy min/max settings. Pure. */
import type { SynchronousSpec } from "../ClusterView.ts"

export interface SynchronousInput {
  readonly synchronous?: SynchronousSpec | undefined
  readonly minSyncReplicas?: number | undefined
  readonly maxSyncReplicas?: number | undefined
  /** This instance (never its own standby). */
  readonly self: string
  /** Every instance of the cluster. */
  readonly instances: ReadonlyArray<string>
  /** Standbys streaming from this primary right now (application names). */
  readonly streaming: ReadonlyArray<string>
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
const list = (names: ReadonlyArray<string>) => names.map(quote).join(",")

/**
 * The value for `synchronous_standby_names`, "" for asynchronous replication.
 * - `synchronous` with `dataDurability: required` (default): every other instance is a
 *   candidate and `number` of them must confirm, even when fewer are up (writes wait).
 * - `preferred`: only streaming standbys are candidates and the number shrinks to how many
 *   stream, so the primary never blocks on a missing standby.
 * - legacy `minSyncReplicas`/`maxSyncReplicas`: `ANY q` over every other instance, where q is
 *   the number of streaming standbys clamped into [min, max]; off when max is 0.
 */
export const synchronousStandbyNames = (input: SynchronousInput): string => {
  const others = [...new Set(input.instances)].filter((n) => n !== input.self).sort()
  const streaming = others.filter((n) => input.streaming.includes(n))
  const sync = input.synchronous
  if (sync !== undefined) {
    const method = sync.method === "first" ? "FIRST" : "ANY"
    if (sync.dataDurability === "preferred") {
      const n = Math.min(sync.number, streaming.length)
      return n <= 0 ? "" : `${method} ${n} (${list(streaming)})`
    }
    return sync.number <= 0 || others.length === 0 ? "" : `${method} ${sync.number} (${list(others)})`
  }
  const max = input.maxSyncReplicas ?? 0
  if (max <= 0 || others.length === 0) return ""
  const min = Math.min(input.minSyncReplicas ?? 0, max)
  const q = Math.max(min, Math.min(max, streaming.length))
  return q <= 0 ? "" : `ANY ${q} (${list(others)})`
}
