/**
 * The Cluster controller: informers over a Cluster's children, and a reconcile that
 * observes (caches and instance status), plans (pure), and acts. Plugged into the
 * controller runtime as its `Setup`.
 */
import { Config, Duration, Effect, Option } from "effect"
import type { Cluster } from "../api/Cluster.ts"
import { labels } from "../api/Naming.ts"
import * as Controller from "../kube/Controller.ts"
import * as EventRecorder from "../kube/EventRecorder.ts"
import * as Informer from "../kube/Informer.ts"
import * as KubeClient from "../kube/KubeClient.ts"
import * as KubeError from "../kube/KubeError.ts"
import type { KubeObject } from "../kube/ObjectMeta.ts"
import type { Setup } from "./command.ts"
import { act, writeStatus } from "./act/Act.ts"
import { type Caches, ensureClusterObjects } from "./act/ClusterObjects.ts"
import * as Kinds from "./Kinds.ts"
import { observe } from "./observe/Observe.ts"
import { nodeSchedulingChanged } from "./observe/Views.ts"
import type { Action } from "./plan/Action.ts"
import * as Pki from "./Pki.ts"
import { Phase } from "./plan/Phase.ts"
import { plan } from "./plan/Plan.ts"
import { type ImageSettings, podTemplateHash } from "./specs/Instances.ts"

/** Images, from the operator's environment (set by its Deployment). */
const imageSettings = Config.all({
  operatorImage: Config.string("OPERATOR_IMAGE_NAME").pipe(Config.withDefault("ghcr.io/tusk-dev/tusk:0.1.0")),
  defaultImage: Config.string("POSTGRES_IMAGE_NAME").pipe(Config.withDefault("ghcr.io/cloudnative-pg/postgresql:15")),
})

/** How soon a reconcile whose status write met a newer Cluster runs again (the cache catches up meanwhile). */
const conflictRetryMs = 50

type Change = Parameters<typeof Controller.specChanged>[0]

/**
 * Cluster changes worth a reconcile: spec, metadata, and the hand-over fields others write
 * (a switchover asked for, the primary an instance reports, a former primary reporting itself stopped).
 */
const clusterChanged = (change: Change) => {
  if (Controller.specChanged(change)) return true
  if (change._tag !== "Modified") return true
  const handover = (o: KubeObject) => {
    const status = (o as Partial<Cluster>).status
    return [status?.targetPrimary, status?.currentPrimary, status?.formerPrimaryStopped]
  }
  const [before, after] = [handover(change.old), handover(change.object)]
  return before.some((v, i) => v !== after[i])
}

/**
 * Role labels route connections and follow the primary already recorded, so they move before
 * the status write, in two parallel rounds: first the pods losing the primary label, then the
 * rest (-rw never selects two pods). Everything else comes after the status.
 */
const inRounds = (actions: ReadonlyArray<Action>, labelledPrimary: ReadonlySet<string>) => {
  const losesPrimary = (a: Action) => a._tag === "SetRoleLabel" && a.role !== "primary" && labelledPrimary.has(a.podName)
  const relabel = actions.filter((a) => a._tag === "SetRoleLabel")
  return {
    demote: relabel.filter(losesPrimary),
    route: relabel.filter((a) => !losesPrimary(a)),
    rest: actions.filter((a) => a._tag !== "SetRoleLabel"),
  }
}

/** Whether the API server serves a group/version (e.g. the Prometheus Operator's). */
const serves = (groupVersion: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.raw({ method: "GET", path: `/apis/${groupVersion}`, timeout: Duration.seconds(10) }).pipe(
      Effect.map((r) => r.ok),
      Effect.orElseSucceed(() => false),
    ),
  )

/** Events a human cares about, one per action that changes what exists. */
const eventOf = (action: Action): EventRecorder.Event | undefined => {
  switch (action._tag) {
    case "CreateJob":
      return { type: "Normal", reason: action.kind === "initdb" ? "CreatingInstance" : "JoiningInstance", action: "Create", note: `Job for instance ${action.serial} (${action.kind})` }
    case "CreatePod":
      return { type: "Normal", reason: "CreatingPod", action: "Create", note: `Pod of instance ${action.serial} as ${action.role}` }
    case "DeletePvc":
      return { type: "Normal", reason: "DeletingInstance", action: "Delete", note: `PVC ${action.name}: ${action.reason}` }
    case "DeletePod":
      return { type: "Normal", reason: "DeletingPod", action: "Delete", note: `Pod ${action.name}: ${action.reason}` }
    default:
      return undefined
  }
}

/** The Cluster reconciler as a controller-runtime setup. */
export const setup: Setup = ({ namespace, workers }) =>
  Effect.gen(function* () {
    const images: ImageSettings = yield* Effect.orDie(imageSettings)
    const owned = (kind: Kinds.Kind) =>
      Informer.make(kind, { namespace, labelSelector: labels.cluster, indexedLabels: [labels.cluster] })
    const clusters = yield* Informer.make(Kinds.clusters, { namespace })
    const caches: Caches = {
      pods: yield* owned(Kinds.pods),
      pvcs: yield* owned(Kinds.pvcs),
      jobs: yield* owned(Kinds.jobs),
      secrets: yield* owned(Kinds.secrets),
      services: yield* owned(Kinds.services),
      pdbs: yield* owned(Kinds.pdbs),
      serviceAccounts: yield* owned(Kinds.serviceAccounts),
      roles: yield* owned(Kinds.roles),
      roleBindings: yield* owned(Kinds.roleBindings),
      nodes: yield* Informer.make(Kinds.nodes, {}),
      podMonitors: (yield* serves("monitoring.coreos.com/v1")) ? yield* owned(Kinds.podMonitors) : undefined,
    }
    // Which clusters have instances on which node, so that a cordon or a dead node wakes them.
    const clustersOnNode = new Map<string, Set<string>>()
    const remember = (key: string, nodes: ReadonlyArray<string>) => {
      for (const set of clustersOnNode.values()) set.delete(key)
      for (const node of nodes) clustersOnNode.set(node, (clustersOnNode.get(node) ?? new Set()).add(key))
    }
    const recorder = yield* EventRecorder.EventRecorder
    const client = yield* KubeClient.KubeClient
    const byCluster = Controller.labelKey(labels.cluster)
    const children = [caches.pods, caches.pvcs, caches.jobs, caches.secrets, caches.services, caches.pdbs]

    const reconcile: Controller.Reconcile = (request) =>
      Effect.gen(function* () {
        const found = yield* clusters.get(request.key)
        if (Option.isNone(found) || found.value.metadata.deletionTimestamp !== undefined) return
        const cluster = found.value
        const now = new Date()
        const pki = yield* ensureClusterObjects(caches, cluster, now)
        const podHash = podTemplateHash(cluster, images)
        const observed = yield* observe(caches, cluster, { defaultImage: images.defaultImage, podHash, now })
        const decided = plan(observed)
        remember(request.key, observed.instances.flatMap((i) => (i.pod?.nodeName === undefined ? [] : [i.pod.nodeName])))
        const carryOut = (action: Action) =>
          Effect.gen(function* () {
            yield* act(cluster, images, action)
            const event = eventOf(action)
            if (event !== undefined) yield* recorder.record(Kinds.clusters, cluster, event)
          })
        const labelledPrimary = new Set(observed.instances.flatMap((i) => (i.pod?.roleLabel === "primary" ? [i.pod.name] : [])))
        const rounds = inRounds(decided.actions, labelledPrimary)
        yield* Effect.forEach(rounds.demote, carryOut, { discard: true, concurrency: "unbounded" })
        yield* Effect.forEach(rounds.route, carryOut, { discard: true, concurrency: "unbounded" })
        // Then the status: a new serial or target primary is recorded before anything acts on it.
        const written = yield* writeStatus(cluster, { ...decided.status, certificates: { expirations: pki.expirations } }).pipe(
          Effect.as(true),
          Effect.catchTag("Conflict", () => Effect.succeed(false)),
        )
        // The Cluster changed since it was read: plan again on the newer one.
        if (!written) return Controller.requeueAfter(Duration.millis(conflictRetryMs))
        const reason = decided.status.phaseReason
        const failing = [...decided.states.values()].some((st) => st._tag === "Failed")
        if (failing && reason !== undefined && reason !== cluster.status?.phaseReason) {
          yield* recorder.record(Kinds.clusters, cluster, { type: "Warning", reason: "InstanceFailed", action: "Reconcile", note: reason })
        }
        const target = decided.status.targetPrimary
        if (cluster.status?.targetPrimary !== undefined && target !== cluster.status.targetPrimary) {
          yield* recorder.record(Kinds.clusters, cluster, {
            type: decided.status.phase === Phase.failingOver ? "Warning" : "Normal",
            reason: decided.status.phase === Phase.failingOver ? "FailingOver" : "SwitchingOver",
            action: "SetTargetPrimary",
            note: decided.status.phaseReason ?? `new target primary ${target}`,
          })
        }
        yield* Effect.forEach(rounds.rest, carryOut, { discard: true })
        // Nothing else wakes a healthy Cluster when a certificate falls due: come back then.
        const renewal = Pki.untilRenewal(Object.values(pki.expirations), now)
        const requeueMs = Math.min(decided.requeueAfterMs ?? Infinity, renewal ?? Infinity)
        return Number.isFinite(requeueMs) ? Controller.requeueAfter(Duration.millis(requeueMs)) : undefined
      }).pipe(
        // The namespace is going, and its Clusters with it: nothing to retry.
        Effect.catchIf(
          (e) => e._tag === "Forbidden" && KubeError.isNamespaceTerminating(e),
          () => Effect.logInfo("namespace is being deleted").pipe(Effect.annotateLogs({ key: request.key }), Effect.as(undefined)),
        ),
        Effect.provideService(KubeClient.KubeClient, client),
      )

    const controller: Controller.Controller = {
      name: "cluster",
      primary: clusters,
      watches: [
        ...children.map((informer) => ({ informer, toKeys: byCluster })),
        {
          informer: caches.nodes,
          toKeys: (node: KubeObject) => [...(clustersOnNode.get(node.metadata.name ?? "") ?? [])],
          // Heartbeats update every node's status every few seconds; they change no plan.
          filter: nodeSchedulingChanged,
        },
      ],
      workers,
      reconcile,
      filter: clusterChanged,
    }
    return [controller]
  })


