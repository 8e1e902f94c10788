/**
 * Who should be primary when the current one is gone, or being drained away: pure
 * decisions over observed instances. The operator only ever names a target; the
 * instances themselves guarantee the hand-over (the old primary stops before anything
 * else, the target promotes only once its WAL receiver has stopped and it has replayed
 * everything it received). See docs/high-availability.md for why that excludes two
 * writable primaries.
 */
import type { Cluster } from "../../api/Cluster.ts"
import { unreachableStoppedAfterMs } from "../../api/Fencing.ts"
import { lsnToBigInt } from "../../instance/status/PgStatus.ts"
import type { InstanceState } from "./InstanceState.ts"
import type { Observed, ObservedInstance } from "./Observed.ts"

/** How long a primary whose instance manager is starting PostgreSQL again is waited for. */
export const startingGraceMs = 30_000

/** Why the current primary is considered gone, or undefined when it is healthy. */
export const primaryFailure = (
  observed: Observed,
  primary: string,
  stateOf: (name: string) => InstanceState | undefined,
): { readonly reason: string; readonly since: Date } | undefined => {
  const instance = observed.instances.find((i) => i.name === primary)
  const state = stateOf(primary)
  if (instance === undefined || state === undefined || state._tag === "Deleting") {
    return { reason: `${primary} and its storage are gone`, since: observed.now }
  }
  if (state._tag === "Fenced") return undefined // a fenced primary is the user's decision, never failed over
  const pod = instance.pod
  if (state._tag === "Failed") return { reason: `${primary}: ${state.reason}`, since: observed.now }
  if (pod === undefined) return undefined // its PVC survives: the pod comes back under the same name
  const since = pod.unreadySince === undefined ? observed.now : new Date(pod.unreadySince)
  if (pod.deleting) return { reason: `${primary}'s pod is being deleted`, since }
  if (pod.ready) return undefined
  // Not Ready for Kubernetes and not answering as a primary: gone. A primary that still
  // answers (e.g. while its node is being drained) is switched over, not failed over; one
  // whose instance manager answers that it is starting PostgreSQL (after unfencing, or
  // after PostgreSQL died) is coming back, and is given that chance.
  const status = instance.status?._tag === "Reported" ? instance.status.status : undefined
  if (status?.isPrimary === true) return undefined
  if (status?.role === "Starting" && observed.now.getTime() - since.getTime() < startingGraceMs) return undefined
  return { reason: `${primary} is not ready and does not answer as a primary`, since }
}

/** How many standbys confirm each commit, when commits wait for them (0 when they do not). */
export const requiredSynchronousStandbys = (cluster: Cluster): number => {
  const sync = cluster.spec.postgresql.synchronous
  if (sync !== undefined) return sync.dataDurability === "required" ? sync.number : 0
  return cluster.spec.minSyncReplicas
}

const lsn = (value: string | null | undefined): bigint => (value == null ? -1n : lsnToBigInt(value))

/** Streaming replicas that could take over, most advanced first (received, then replayed LSN). */
export const promotionCandidates = (
  observed: Observed,
  exclude: string,
  stateOf: (name: string) => InstanceState | undefined,
  schedulable: (i: ObservedInstance) => boolean = () => true,
): ReadonlyArray<ObservedInstance> =>
  observed.instances
    .filter((i) => i.name !== exclude && stateOf(i.name)?._tag === "Replica" && schedulable(i))
    .filter((i) => i.status?._tag === "Reported" && !i.status.status.isPrimary && !i.status.status.fenced)
    .sort((a, b) => {
      const sa = a.status?._tag === "Reported" ? a.status.status : undefined
      const sb = b.status?._tag === "Reported" ? b.status.status : undefined
      const byReceived = lsn(sb?.receivedLsn) - lsn(sa?.receivedLsn)
      if (byReceived !== 0n) return byReceived > 0n ? 1 : -1
      const byReplayed = lsn(sb?.replayedLsn) - lsn(sa?.replayedLsn)
      if (byReplayed !== 0n) return byReplayed > 0n ? 1 : -1
      return a.serial - b.serial
    })

/**
 * Whether an instance may have confirmed commits of the current primary. A former primary
 * that says it is still waiting to be rewound (role Demoting) cannot have: it streams from
 * nobody until it is. Any other, reachable or not, might have.
 */
export const mayHoldCommits = (observed: Observed, name: string): boolean => {
  const status = observed.instances.find((i) => i.name === name)?.status
  return !(status?._tag === "Reported" && status.status.role === "Demoting")
}

/**
 * Whether promoting the most advanced candidate can lose no acknowledged commit. Every
 * commit waited for `required` standbys; if fewer than that many standbys are missing,
 * at least one candidate holds each commit, and the most advanced holds them all.
 */
export const safeToPromote = (
  cluster: Cluster,
  standbys: ReadonlyArray<string>,
  candidates: ReadonlyArray<ObservedInstance>,
): boolean => {
  const required = requiredSynchronousStandbys(cluster)
  if (required === 0) return candidates.length > 0
  const present = new Set(candidates.map((c) => c.name))
  const missing = standbys.filter((s) => !present.has(s)).length
  return candidates.length > 0 && missing < required
}

/**
 * Whether the primary being replaced can no longer accept writes: its pod is gone or not
 * running, it reports PostgreSQL stopped or running as a standby, or it has not answered
 * for longer than an isolated primary takes to stop itself.
 */
export const formerPrimaryStopped = (observed: Observed, former: string, handoverSince: Date | undefined): boolean => {
  const instance = observed.instances.find((i) => i.name === former)
  const pod = instance?.pod
  if (instance === undefined || pod === undefined || pod.phase !== "Running") return true
  const status = instance.status
  if (status?._tag === "Reported") return !status.status.postmasterRunning || !status.status.isPrimary
  const since = handoverSince?.getTime() ?? observed.now.getTime()
  return observed.now.getTime() - since >= unreachableStoppedAfterMs
}
