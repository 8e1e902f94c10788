/**
 * Narrow Schemas over the Kubernetes objects the reconciler observes: only the fields a
 * decision depends on. Objects come from the informer caches undecoded; a malformed one
 * is skipped with a log line, never a crash.
 */
import { Option, Schema } from "effect"
import { annotations, labels, serialOf } from "../../api/Naming.ts"
import type { KubeObject } from "../../kube/ObjectMeta.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import type { Change } from "../../kube/Store.ts"
import type { ObservedJob, ObservedNode, ObservedPod, ObservedPvc } from "../plan/Observed.ts"

const Meta = Schema.Struct({
  name: Schema.String,
  creationTimestamp: Schema.optional(Schema.String),
  deletionTimestamp: Schema.optional(Schema.String),
  deletionGracePeriodSeconds: Schema.optional(Schema.Number),
  labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  annotations: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
})

const Condition = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  lastTransitionTime: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
})

const ContainerStatus = Schema.Struct({
  name: Schema.String,
  image: Schema.optional(Schema.String),
  state: Schema.optional(
    Schema.Struct({
      waiting: Schema.optional(Schema.Struct({ reason: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })),
    }),
  ),
})

const PodView = Schema.Struct({
  metadata: Meta,
  spec: Schema.optional(Schema.Struct({ nodeName: Schema.optional(Schema.String) })),
  status: Schema.optional(
    Schema.Struct({
      phase: Schema.optional(Schema.String),
      podIP: Schema.optional(Schema.String),
      conditions: Schema.optional(Schema.Array(Condition)),
      containerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
      initContainerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
    }),
  ),
})

const PvcView = Schema.Struct({
  metadata: Meta,
  status: Schema.optional(Schema.Struct({ phase: Schema.optional(Schema.String) })),
})

const JobView = Schema.Struct({
  metadata: Meta,
  status: Schema.optional(
    Schema.Struct({
      succeeded: Schema.optional(Schema.Number),
      conditions: Schema.optional(Schema.Array(Condition)),
    }),
  ),
})

const NodeView = Schema.Struct({
  metadata: Meta,
  spec: Schema.optional(Schema.Struct({ unschedulable: Schema.optional(Schema.Boolean), taints: Schema.optional(Schema.Array(Schema.Unknown)) })),
  status: Schema.optional(Schema.Struct({ conditions: Schema.optional(Schema.Array(Condition)) })),
})

const decode = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknownOption(schema)

/** When a deletion was asked for: deletionTimestamp is when its grace period ends. */
const deletionRequestedAt = (meta: typeof Meta.Type): string | undefined =>
  meta.deletionTimestamp === undefined
    ? undefined
    : new Date(new Date(meta.deletionTimestamp).getTime() - (meta.deletionGracePeriodSeconds ?? 0) * 1000).toISOString()

/** A pod as the plan sees it, plus its IP for the status API. */
export interface PodObservation extends ObservedPod {
  readonly ip: string | undefined
}

const waitingReason = (view: typeof PodView.Type): string | undefined => {
  const status = view.status
  const unschedulable = status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False")
  if (unschedulable !== undefined) return `${unschedulable.reason ?? "Unschedulable"}: ${unschedulable.message ?? ""}`.trim()
  const waiting = [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])]
    .map((c) => c.state?.waiting)
    .find((w) => w?.reason !== undefined && w.reason !== "PodInitializing" && w.reason !== "ContainerCreating")
  return waiting === undefined ? undefined : `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`
}

export const podObservation = (object: Unstructured): Option.Option<PodObservation> =>
  Option.map(decode(PodView)(object), (view) => {
    const readyCondition = view.status?.conditions?.find((c) => c.type === "Ready")
    const ready = readyCondition?.status === "True"
    return {
    name: view.metadata.name,
    phase: view.status?.phase ?? "Pending",
    ready,
    unreadySince: deletionRequestedAt(view.metadata) ?? (ready ? undefined : readyCondition?.lastTransitionTime),
    deleting: view.metadata.deletionTimestamp !== undefined,
    nodeName: view.spec?.nodeName,
    roleLabel: view.metadata.labels?.[labels.instanceRole],
    waitingReason: waitingReason(view),
    image: view.status?.containerStatuses?.find((c) => c.name === "postgres")?.image,
    ip: view.status?.podIP,
    createdAt: view.metadata.creationTimestamp,
    specHash: view.metadata.annotations?.[annotations.specHash],
    }
  })

export const pvcObservation = (object: Unstructured): Option.Option<ObservedPvc & { readonly serial: number | undefined }> =>
  Option.map(decode(PvcView)(object), (view) => {
    const serial = view.metadata.annotations?.[annotations.serial]
    return {
      name: view.metadata.name,
      phase: view.status?.phase ?? "Pending",
      ready: view.metadata.annotations?.[annotations.pvcStatus] === "ready",
      deleting: view.metadata.deletionTimestamp !== undefined,
      nodeName: view.metadata.annotations?.["volume.kubernetes.io/selected-node"],
      serial: serial !== undefined && /^\d+$/.test(serial) ? Number(serial) : undefined,
    }
  })

export const jobObservation = (
  cluster: string,
  object: Unstructured,
): Option.Option<ObservedJob & { readonly serial: number | undefined }> =>
  Option.flatMap(decode(JobView)(object), (view) => {
    const kind = view.metadata.labels?.[labels.jobRole]
    if (kind !== "initdb" && kind !== "join") return Option.none()
    const failed = view.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True")
    const instance = view.metadata.labels?.[labels.instanceName]
    return Option.some({
      name: view.metadata.name,
      kind,
      state: (view.status?.succeeded ?? 0) > 0 ? "succeeded" : failed !== undefined ? "failed" : "running",
      message: failed?.message,
      waitingReason: undefined,
      serial: instance === undefined ? undefined : serialOf(cluster, instance),
    })
  })

export const nodeObservation = (object: Unstructured): Option.Option<ObservedNode> =>
  Option.map(decode(NodeView)(object), (view) => ({
    name: view.metadata.name,
    ready: view.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    schedulable: view.spec?.unschedulable !== true,
  }))

/** What of a node can change a plan: cordon, taints and readiness, not its heartbeats. */
const nodeScheduling = (object: unknown): string | undefined =>
  Option.getOrUndefined(
    Option.map(decode(NodeView)(object), (view) =>
      JSON.stringify([
        view.spec?.unschedulable === true,
        view.spec?.taints ?? [],
        view.status?.conditions?.find((c) => c.type === "Ready")?.status,
      ])),
  )

/** Whether a Node change can matter to the Clusters with instances on it. */
export const nodeSchedulingChanged = (change: Change<KubeObject>): boolean =>
  change._tag !== "Modified" || nodeScheduling(change.old) !== nodeScheduling(change.object)
