/**
 * Rolling updates: instances whose pod no longer matches the Cluster (a new image,
 * resources, environment...), that were asked to restart (`tusk.dev/restartedAt`), or
 * whose PostgreSQL needs a restart for a changed parameter. Replicas go first, one at a
 * time; the primary last, as `primaryUpdateStrategy` and `primaryUpdateMethod` say.
 */
import { annotations, restartTokensOf } from "../../api/Naming.ts"
import { Action } from "./Action.ts"
import { promotionCandidates } from "./Failover.ts"
import type { InstanceState } from "./InstanceState.ts"
import type { Observed, ObservedInstance } from "./Observed.ts"
import { Phase } from "./Phase.ts"

/** What an out-of-date instance needs: a new pod, or only a restart of PostgreSQL. */
export interface Staleness {
  readonly why: string
  readonly inPlace: boolean
}

/** The in-place restart tokens the Cluster carries, by instance. */
export const restartTokens = (observed: Observed): Readonly<Record<string, string>> =>
  restartTokensOf(observed.cluster.metadata.annotations?.[annotations.restartInstances])

/** Why an instance must be restarted or recreated, or undefined when it is up to date. */
export const outdated = (observed: Observed, instance: ObservedInstance): Staleness | undefined => {
  const pod = instance.pod
  if (pod === undefined) return undefined
  if (pod.specHash !== undefined && pod.specHash !== observed.podHash) return { why: "its pod template changed", inPlace: false }
  const restartedAt = observed.cluster.metadata.annotations?.[annotations.restartedAt]
  if (restartedAt !== undefined && pod.createdAt !== undefined && new Date(pod.createdAt) < new Date(restartedAt)) {
    return { why: "a restart was requested", inPlace: false }
  }
  const status = instance.status
  if (status?._tag === "Reported" && status.status.pendingRestart) {
    return { why: `parameters need a restart (${status.status.pendingRestartParameters.join(", ")})`, inPlace: true }
  }
  return undefined
}

/** Restart PostgreSQL in place, unless a restart asked for earlier has not been carried out yet. */
const restartInPlace = (observed: Observed, instance: ObservedInstance): Action | undefined => {
  const asked = restartTokens(observed)[instance.name]
  const done = instance.status?._tag === "Reported" ? instance.status.status.restartedFor : undefined
  if (asked !== undefined && asked !== done) return undefined
  const tokens = { ...restartTokens(observed), [instance.name]: observed.now.toISOString() }
  return Action.RestartInPlace({ instance: instance.name, tokens })
}

/** The action that brings one instance up to date. */
const refresh = (observed: Observed, instance: ObservedInstance, stale: Staleness, reason: string): Action | undefined =>
  stale.inPlace ? restartInPlace(observed, instance) : Action.DeletePod({ name: instance.pod!.name, reason })

export interface UpdateStep {
  readonly phase: string
  readonly reason: string
  readonly action?: Action
  readonly target?: string
}

/**
 * Replicas that cannot become ready with the pod template they were made from (e.g. an
 * impossible resource request since reverted) are recreated at once, not after the cluster
 * is healthy again, which they would prevent.
 */
export const stuckOutdatedReplicas = (
  observed: Observed,
  active: ReadonlyArray<ObservedInstance>,
  primary: string | undefined,
): ReadonlyArray<Action> =>
  active
    .filter((i) => i.name !== primary && i.pod !== undefined && !i.pod.ready && !i.pod.deleting)
    .filter((i) => outdated(observed, i)?.inPlace === false)
    .map((i) => Action.DeletePod({ name: i.pod!.name, reason: "not ready, and made from an outdated pod template" }))

/** The next step of a rolling update of a healthy cluster, or undefined when none is due. */
export const rollingUpdate = (
  observed: Observed,
  active: ReadonlyArray<ObservedInstance>,
  primary: string,
  stateOf: (name: string) => InstanceState | undefined,
): UpdateStep | undefined => {
  const stale = active.flatMap((i) => {
    const staleness = outdated(observed, i)
    return staleness === undefined ? [] : [{ instance: i, why: staleness.why, staleness }]
  })
  const replica = stale.filter((s) => s.instance.name !== primary).sort((a, b) => a.instance.serial - b.instance.serial)[0]
  if (replica !== undefined) {
    const action = refresh(observed, replica.instance, replica.staleness, `rolling update: ${replica.why}`)
    return {
      phase: Phase.upgrading,
      reason: `restarting replica ${replica.instance.name}: ${replica.why}`,
      ...(action !== undefined ? { action } : {}),
    }
  }
  const own = stale.find((s) => s.instance.name === primary)
  if (own === undefined) return undefined
  const spec = observed.cluster.spec
  if (spec.primaryUpdateStrategy === "supervised") {
    return {
      phase: Phase.waitingForUser,
      reason: `primary ${primary} needs an update (${own.why}): promote a replica with kubectl tusk promote, or restart it`,
    }
  }
  const candidate = promotionCandidates(observed, primary, stateOf)[0]
  if (spec.primaryUpdateMethod === "switchover" && candidate !== undefined) {
    return { phase: Phase.switchover, reason: `switching over to ${candidate.name} to update ${primary}: ${own.why}`, target: candidate.name }
  }
  const action = refresh(observed, own.instance, own.staleness, `rolling update of the primary: ${own.why}`)
  return { phase: Phase.restartingPrimary, reason: `restarting primary ${primary}: ${own.why}`, ...(action !== undefined ? { action } : {}) }
}
