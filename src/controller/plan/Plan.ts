/**
 * `plan(observed)`: every decision the reconciler makes about one Cluster, as a pure
 * function from observed state to actions and the status to record. It is the one place
 * that decides which instances exist, in which order they are created, and which one is
 * labelled primary.
 */
import type { ClusterStatus } from "../../api/Cluster.ts"
import type { Condition } from "../../api/Kubernetes.ts"
import { annotations, instanceName, type InstanceRole, isFencedBy } from "../../api/Naming.ts"
import { Action } from "./Action.ts"
import { formerPrimaryStopped, mayHoldCommits, primaryFailure, promotionCandidates, safeToPromote } from "./Failover.ts"
import { rollingUpdate, stuckOutdatedReplicas } from "./RollingUpdate.ts"
import { InstanceState, instanceState } from "./InstanceState.ts"
import type { Observed, ObservedInstance } from "./Observed.ts"
import { Phase } from "./Phase.ts"

export interface Plan {
  readonly actions: ReadonlyArray<Action>
  readonly status: ClusterStatus
  /** Look again after this long even without an event (waiting on PostgreSQL, not on Kubernetes). */
  readonly requeueAfterMs: number | undefined
  /** Per instance, for status, events and the plugin. */
  readonly states: ReadonlyMap<string, InstanceState>
}

/** How often to look while something is in progress that no watch reports. */
export const progressRequeueMs = 2_000
export const handoverRequeueMs = 250


const condition = (
  previous: ReadonlyArray<Condition> | undefined,
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): Condition => {
  const status = ok ? "True" : "False"
  const before = previous?.find((c) => c.type === type)
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: before?.status === status ? before.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  }
}

const isActive = (state: InstanceState) => state._tag !== "Deleting"
const isReady = (state: InstanceState) => state._tag === "Primary" || state._tag === "Replica"
const inBootstrap = (state: InstanceState) =>
  state._tag === "Initializing" || state._tag === "Joining" || state._tag === "Pending"

const readyPrimary = (active: ReadonlyArray<ObservedInstance>, primary: string | undefined, states: ReadonlyMap<string, InstanceState>) =>
  active.some((i) => i.name === primary && states.get(i.name)?._tag === "Primary")

/** The decisions for one Cluster. */
export const plan = (observed: Observed): Plan => {
  const { cluster, now } = observed
  const name = cluster.metadata.name
  const previous = cluster.status ?? {}
  const fencedValue = cluster.metadata.annotations?.[annotations.fencedInstances]
  const fenced = (name: string) => isFencedBy(fencedValue, name)
  const actions: Array<Action> = []

  // The instance manager records currentPrimary; until it has, take what the target reports.
  const target = previous.targetPrimary
  const targetReportsPrimary = observed.instances.some(
    (i) => i.name === target && i.status?._tag === "Reported" && i.status.status.isPrimary,
  )
  const currentPrimary = previous.currentPrimary ?? (targetReportsPrimary ? target : undefined)

  const states = new Map<string, InstanceState>()
  for (const i of observed.instances) states.set(i.name, instanceState(i, currentPrimary, fenced))
  const stateOf = (i: ObservedInstance) => states.get(i.name)!
  const active = observed.instances.filter((i) => isActive(stateOf(i)))
  const lost = observed.instances.filter((i) => !isActive(stateOf(i)))

  // A status write can be lost after a PVC was created: never hand out a serial in use.
  let latest = Math.max(previous.latestGeneratedNode ?? 0, ...observed.instances.map((i) => i.serial))
  let targetPrimary = previous.targetPrimary
  let phase: string = Phase.waitingForInstances
  let phaseReason = ""

  // Lost instances: their pod and Jobs go; the PVC is already going or gone.
  for (const i of lost) {
    if (i.pod !== undefined && !i.pod.deleting) actions.push(Action.DeletePod({ name: i.pod.name, reason: "its PVC is gone" }))
    for (const j of i.jobs) actions.push(Action.DeleteJob({ name: j.name, reason: "its instance is gone" }))
  }

  // Failover and switchover: the only place that moves targetPrimary away from the primary.
  let handover: "failover" | "switchover" | undefined
  if (currentPrimary !== undefined && targetPrimary === currentPrimary) {
    const lookup = (n: string) => states.get(n)
    // A primary restarted in place on purpose keeps its data: wait for it, do not fail over.
    const restarting = previous.phase === Phase.restartingPrimary && lookup(currentPrimary)?._tag !== "Deleting"
    const failure = restarting ? undefined : primaryFailure(observed, currentPrimary, lookup)
    const primaryNode = observed.instances.find((i) => i.name === currentPrimary)?.pod?.nodeName
    const draining = failure === undefined && primaryNode !== undefined && observed.nodes.get(primaryNode)?.schedulable === false
    const onSchedulableNode = (i: ObservedInstance) =>
      i.pod?.nodeName !== undefined && observed.nodes.get(i.pod.nodeName)?.schedulable !== false
    if (failure !== undefined) {
      const waited = now.getTime() - failure.since.getTime()
      const delay = cluster.spec.failoverDelay * 1000
      const candidates = promotionCandidates(observed, currentPrimary, lookup)
      const standbys = (previous.instanceNames ?? []).filter((n) => n !== currentPrimary && mayHoldCommits(observed, n))
      phase = Phase.failingOver
      if (waited < delay) {
        phaseReason = `${failure.reason}; failing over in ${Math.ceil((delay - waited) / 1000)}s`
      } else if (safeToPromote(cluster, standbys, candidates)) {
        targetPrimary = candidates[0]!.name
        phaseReason = `${failure.reason}; promoting ${targetPrimary}`
      } else {
        phaseReason = `${failure.reason}; no replica can take over without losing acknowledged writes`
      }
      handover = "failover"
    } else if (draining) {
      const candidate = promotionCandidates(observed, currentPrimary, lookup, onSchedulableNode)[0]
      if (candidate !== undefined) {
        targetPrimary = candidate.name
        phaseReason = `node ${primaryNode} is not schedulable; switching over to ${targetPrimary}`
        handover = "switchover"
      }
    }
  } else if (currentPrimary !== undefined && targetPrimary !== undefined && targetPrimary !== currentPrimary) {
    handover = previous.phase === Phase.failingOver ? "failover" : "switchover"
    // A target that is itself gone before promoting is replaced by the next candidate.
    if (states.get(targetPrimary)?._tag === "Deleting") {
      const next = promotionCandidates(observed, currentPrimary, (n) => states.get(n)).find((i) => i.name !== targetPrimary)
      if (next !== undefined) targetPrimary = next.name
    }
  }
  // The target may promote only once the primary it replaces is seen stopped.
  let stoppedFormer = previous.formerPrimaryStopped
  if (handover !== undefined && currentPrimary !== undefined && stoppedFormer !== currentPrimary) {
    const since = previous.targetPrimaryTimestamp === undefined || targetPrimary !== previous.targetPrimary
      ? now
      : new Date(previous.targetPrimaryTimestamp)
    if (formerPrimaryStopped(observed, currentPrimary, since)) stoppedFormer = currentPrimary
  }

  const everCreated = latest > 0 || observed.instances.length > 0
  if (!everCreated) {
    // Bootstrap: the first instance runs initdb and will be the primary.
    latest = 1
    targetPrimary = instanceName(name, 1)
    actions.push(Action.CreatePvc({ serial: 1 }), Action.CreateJob({ serial: 1, kind: "initdb" }))
    phase = Phase.settingUpPrimary
  } else if (active.length === 0 && currentPrimary !== undefined) {
    phase = Phase.unrecoverable
    phaseReason = "every instance and its data is gone; restore from a backup into a new Cluster"
  } else {
    // Per-instance progress.
    for (const i of active) {
      const state = stateOf(i)
      const pvc = i.pvc!
      if (!pvc.ready) {
        const succeeded = i.jobs.some((j) => j.state === "succeeded")
        if (succeeded) actions.push(Action.MarkPvcReady({ serial: i.serial }))
        else if (i.jobs.length === 0 && !actions.some((a) => a._tag === "CreateJob")) {
          // A PVC without a Job: the first instance initialises, any later one joins the
          // primary; one bootstrap at a time.
          const kind = currentPrimary === undefined && i.name === targetPrimary ? "initdb" : "join"
          if (kind === "initdb" || active.some((p) => p.name === currentPrimary && stateOf(p)._tag === "Primary")) {
            actions.push(Action.CreateJob({ serial: i.serial, kind }))
          }
        }
      }
      // During a hand-over the old primary is labelled unhealthy: it leaves -rw and -ro at once.
      // The first instance is the primary from its first start.
      const leader = currentPrimary ?? targetPrimary
      const role: InstanceRole = i.name !== leader ? "replica" : targetPrimary === leader ? "primary" : "unhealthy"
      if (pvc.ready && i.pod === undefined) actions.push(Action.CreatePod({ serial: i.serial, role }))
      if (i.pod !== undefined && !i.pod.deleting && i.pod.roleLabel !== role) {
        actions.push(Action.SetRoleLabel({ podName: i.pod.name, role }))
      }
      if (state._tag === "Failed" && phaseReason === "") phaseReason = `${i.name}: ${state.reason}`
    }

    actions.push(...stuckOutdatedReplicas(observed, active, currentPrimary))
    const primaryReady = active.some((i) => i.name === currentPrimary && stateOf(i)._tag === "Primary")
    const allReady = active.every((i) => isReady(stateOf(i)))
    const bootstrapping = active.filter((i) => inBootstrap(stateOf(i)))
    const wanted = cluster.spec.instances

    if (currentPrimary === undefined) {
      phase = Phase.settingUpPrimary
    } else if (handover !== undefined) {
      phase = handover === "failover" ? Phase.failingOver : Phase.switchover
      if (phaseReason === "") phaseReason = `${currentPrimary} hands over to ${targetPrimary}`
    } else if (active.length < wanted) {
      phase = Phase.creatingReplica
      // One new replica at a time, and only from a healthy cluster.
      if (primaryReady && allReady && bootstrapping.length === 0) {
        latest += 1
        actions.push(Action.CreatePvc({ serial: latest }), Action.CreateJob({ serial: latest, kind: "join" }))
      }
    } else if (active.length > wanted) {
      phase = Phase.scalingDown
      // Highest serial first, never the primary or the instance about to become it.
      const victim = [...active]
        .filter((i) => i.name !== currentPrimary && i.name !== targetPrimary)
        .sort((a, b) => b.serial - a.serial)[0]
      if (victim !== undefined) {
        if (victim.pod !== undefined) actions.push(Action.DeletePod({ name: victim.pod.name, reason: "scaling down" }))
        for (const j of victim.jobs) actions.push(Action.DeleteJob({ name: j.name, reason: "scaling down" }))
        actions.push(Action.DeletePvc({ name: victim.pvc!.name, reason: "scaling down" }))
      }
    } else if (allReady && primaryReady) {
      phase = Phase.healthy
      const update = rollingUpdate(observed, active, currentPrimary, (n) => states.get(n))
      if (update !== undefined) {
        phase = update.phase
        phaseReason = update.reason
        if (update.action !== undefined) actions.push(update.action)
        if (update.target !== undefined) targetPrimary = update.target
      }
    }
  }

  // A replica restarted by a rolling update is briefly not ready: the update is still what is going on.
  if (previous.phase === Phase.upgrading && phase === Phase.waitingForInstances) {
    phase = Phase.upgrading
    if (phaseReason === "") phaseReason = previous.phaseReason ?? ""
  }
  // Until the primary restarted in place is back, say so (and keep failover away, above).
  if (previous.phase === Phase.restartingPrimary && handover === undefined && !readyPrimary(active, currentPrimary, states)) {
    phase = Phase.restartingPrimary
    if (phaseReason === "") phaseReason = previous.phaseReason ?? ""
  }
  const healthy = phase === Phase.healthy
  const activeNames = active.map((i) => i.name).sort()
  const readyNames = active.filter((i) => isReady(stateOf(i))).map((i) => i.name).sort()
  const primaryStatus = observed.instances.find((i) => i.name === currentPrimary)?.status
  const reported = primaryStatus?._tag === "Reported" ? primaryStatus.status : undefined
  const generation = cluster.metadata.generation

  const status: ClusterStatus = {
    ...previous,
    phase,
    phaseReason,
    instances: active.length,
    readyInstances: readyNames.length,
    instanceNames: activeNames,
    // Both keys always: the status is merge-patched, and an absent key would never clear.
    instancesStatus: { healthy: readyNames, failed: activeNames.filter((n) => !readyNames.includes(n)) },
    latestGeneratedNode: latest,
    ...(targetPrimary !== undefined ? { targetPrimary } : {}),
    ...(targetPrimary !== previous.targetPrimary ? { targetPrimaryTimestamp: now.toISOString() } : {}),
    ...(stoppedFormer !== undefined ? { formerPrimaryStopped: stoppedFormer } : {}),
    ...(currentPrimary !== undefined ? { currentPrimary } : {}),
    ...(currentPrimary !== previous.currentPrimary ? { currentPrimaryTimestamp: now.toISOString() } : {}),
    ...(reported?.timeline != null ? { timelineID: reported.timeline } : {}),
    ...(reported?.systemId != null ? { systemID: reported.systemId } : {}),
    healthyPVC: active.filter((i) => i.pvc?.ready).map((i) => i.pvc!.name).sort(),
    image: cluster.spec.imageName ?? observed.defaultImage,
    conditions: [
      condition(
        previous.conditions,
        "Ready",
        healthy,
        healthy ? "ClusterIsReady" : "ClusterIsNotReady",
        healthy ? "Cluster is Ready" : phaseReason || phase,
        generation,
        now,
      ),
      condition(
        previous.conditions,
        "Initialized",
        currentPrimary !== undefined,
        currentPrimary !== undefined ? "PrimaryInitialized" : "SettingUpPrimary",
        currentPrimary !== undefined ? `${currentPrimary} was initialized` : "the first instance is being initialized",
        generation,
        now,
      ),
    ],
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  }

  // A hand-over is timed in hundreds of milliseconds: look often while one is under way.
  const requeueAfterMs = healthy ? undefined : handover !== undefined ? handoverRequeueMs : progressRequeueMs
  return { actions, status, requeueAfterMs, states }
}
