/**
 * Rolling updates: instances whose pod no longer matches the Cluster (a new image,
 * resources, environment...), that were asked to restart (`tusk.dev/restartedAt`), or
 * whose PostgreSQL needs a restart for a changed parameter. Replicas go first, one at a
 * time; the primary last, as `primaryUpdateStrategy` and `primaryUpdateMethod` say.
 */
import { annotations } from "../../api/Naming.ts"
import { Action } from "./Action.ts"
import { promotionCandidates } from "./Failover.ts"
import type { InstanceState } from "./InstanceState.ts"
import type { Observed, ObservedInstance } from "./Observed.ts"
import { Phase } from "./Phase.ts"

/** Why an instance must be restarted or recreated, or undefined when it is up to date. */
export const outdated = (observed: Observed, instance: ObservedInstance): string | undefined => {
  const pod = instance.pod
  if (pod === undefined) return undefined
  if (pod.specHash !== undefined && pod.specHash !== observed.podHash) return "its pod template changed"
  const restartedAt = observed.cluster.metadata.annotations?.[annotations.restartedAt]
  if (restartedAt !== undefined && pod.createdAt !== undefined && new Date(pod.createdAt) < new Date(restartedAt)) {
    return "a restart was requested"
  }
  const status = instance.status
  if (status?._tag === "Reported" && status.status.pendingRestart) {
    return `parameters need a restart (${status.status.pendingRestartParameters.join(", ")})`
  }
  return undefined
}

export interface UpdateStep {
  readonly phase: string
  readonly reason: string
  readonly action?: Action
  readonly target?: string
}

/** The next step of a rolling update of a healthy cluster, or undefined when none is due. */
export const rollingUpdate = (
  observed: Observed,
  active: ReadonlyArray<ObservedInstance>,
  primary: string,
  stateOf: (name: string) => InstanceState | undefined,
): UpdateStep | undefined => {
  const stale = active.flatMap((i) => {
    const why = outdated(observed, i)
    return why === undefined ? [] : [{ instance: i, why }]
  })
  const replica = stale.filter((s) => s.instance.name !== primary).sort((a, b) => a.instance.serial - b.instance.serial)[0]
  if (replica !== undefined) {
    return {
      phase: Phase.upgrading,
      reason: `restarting replica ${replica.instance.name}: ${replica.why}`,
      action: Action.DeletePod({ name: replica.instance.pod!.name, reason: `rolling update: ${replica.why}` }),
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
  return {
    phase: Phase.restartingPrimary,
    reason: `restarting primary ${primary}: ${own.why}`,
    action: Action.DeletePod({ name: own.instance.pod!.name, reason: `rolling update of the primary: ${own.why}` }),
  }
}
