/**
 * From what the API server and the instances returned to a `StatusReport`: pure, so the
 * decisions (roles, fenced instances, why a pod is Pending) are tested on plain objects.
 */
import { Option, Schema } from "effect"
import type { Cluster } from "../../api/Cluster.ts"
import { annotations, fencedInstanceNames, labels } from "../../api/Naming.ts"
import type { PgStatus } from "../../instance/status/PgStatus.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import type { Instance, PendingInstance, Pdb, Standby, StatusReport } from "./Model.ts"

/** What /pg/status of one instance gave. */
export type Probe = { readonly _tag: "Ok"; readonly status: PgStatus } | { readonly _tag: "Failed"; readonly reason: string }

/** Everything read for one status report. */
export interface Observed {
  readonly namespace: string
  readonly cluster: Cluster
  readonly pods: ReadonlyArray<Unstructured>
  readonly pvcs: ReadonlyArray<Unstructured>
  /** Undefined when nodes could not be listed (a namespaced user). */
  readonly nodes: ReadonlyArray<Unstructured> | undefined
  readonly events: ReadonlyArray<Unstructured>
  /** Only with -v. */
  readonly pdbs: ReadonlyArray<Unstructured> | undefined
  readonly probes: ReadonlyMap<string, Probe>
  readonly warnings: ReadonlyArray<string>
  readonly now: Date
}

const Meta = Schema.Struct({
  name: Schema.String,
  labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  annotations: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  deletionTimestamp: Schema.optional(Schema.String),
})
const Cond = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
})
const Waiting = Schema.Struct({ reason: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })
const ContainerStatus = Schema.Struct({
  name: Schema.String,
  state: Schema.optional(Schema.Struct({ waiting: Schema.optional(Waiting) })),
})
const PodView = Schema.Struct({
  metadata: Meta,
  spec: Schema.optional(Schema.Struct({ nodeName: Schema.optional(Schema.String) })),
  status: Schema.optional(Schema.Struct({
    phase: Schema.optional(Schema.String),
    conditions: Schema.optional(Schema.Array(Cond)),
    containerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
    initContainerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
  })),
})
type PodView = typeof PodView.Type
const NodeView = Schema.Struct({
  metadata: Meta,
  spec: Schema.optional(Schema.Struct({ unschedulable: Schema.optional(Schema.Boolean) })),
  status: Schema.optional(Schema.Struct({ conditions: Schema.optional(Schema.Array(Cond)) })),
})
const EventView = Schema.Struct({
  involvedObject: Schema.Struct({ kind: Schema.optional(Schema.String), name: Schema.optional(Schema.String) }),
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  lastTimestamp: Schema.optional(Schema.NullOr(Schema.String)),
  eventTime: Schema.optional(Schema.NullOr(Schema.String)),
})
const IntOrString = Schema.Union(Schema.Number, Schema.String)
const PdbView = Schema.Struct({
  metadata: Meta,
  spec: Schema.optional(Schema.Struct({ minAvailable: Schema.optional(IntOrString), maxUnavailable: Schema.optional(IntOrString) })),
  status: Schema.optional(Schema.Struct({
    currentHealthy: Schema.optional(Schema.Number),
    desiredHealthy: Schema.optional(Schema.Number),
    disruptionsAllowed: Schema.optional(Schema.Number),
  })),
})

const decodeAll = <A, I>(schema: Schema.Schema<A, I>, objects: ReadonlyArray<unknown>): Array<A> =>
  objects.flatMap((o) => Option.toArray(Schema.decodeUnknownOption(schema)(o)))

/** Instance names in the fencing annotation (`*` stands for all). */
export const fencedList = (value: string | undefined): Array<string> => [...fencedInstanceNames(value)]

const isFenced = (list: ReadonlyArray<string>, name: string) => list.includes("*") || list.includes(name)

/** The reason a pod does not run: its scheduling condition, a waiting container, then its last Warning event. */
const podTrouble = (pod: PodView, warnings: ReadonlyArray<typeof EventView.Type>): string | undefined => {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False")
  if (unscheduled !== undefined) return `${unscheduled.reason ?? "Unschedulable"}: ${unscheduled.message ?? ""}`.trim()
  const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .map((c) => c.state?.waiting)
    .find((w) => w?.reason !== undefined && w.reason !== "PodInitializing" && w.reason !== "ContainerCreating")
  if (waiting !== undefined) return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`
  const last = warnings.at(-1)
  return last === undefined ? undefined : `${last.reason ?? "Warning"}: ${last.message ?? ""}`.trim()
}

const eventTime = (e: typeof EventView.Type) => e.lastTimestamp ?? e.eventTime ?? ""

/** Build the report. */
export const assemble = (o: Observed): StatusReport => {
  const cluster = o.cluster
  const status = cluster.status
  const name = cluster.metadata.name
  const fenced = fencedList(cluster.metadata.annotations?.[annotations.fencedInstances])
  const pods = decodeAll(PodView, o.pods)
    .filter((p) => p.metadata.labels?.[labels.podRole] === "instance")
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, undefined, { numeric: true }))
  const nodes = new Map(decodeAll(NodeView, o.nodes ?? []).map((n) => [n.metadata.name, n]))
  const events = decodeAll(EventView, o.events)
    .filter((e) => e.type === "Warning" && e.involvedObject.kind === "Pod")
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
  const volumeNode = new Map(
    decodeAll(Schema.Struct({ metadata: Meta }), o.pvcs).flatMap((p) => {
      const node = p.metadata.annotations?.["volume.kubernetes.io/selected-node"]
      return node === undefined ? [] : [[p.metadata.name, node] as const]
    }),
  )

  const instances: Array<Instance> = []
  const pending: Array<PendingInstance> = []
  for (const pod of pods) {
    const podName = pod.metadata.name
    const probe = o.probes.get(podName)
    const podPhase = pod.metadata.deletionTimestamp !== undefined ? "Terminating" : (pod.status?.phase ?? "Pending")
    const podReady = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
    const pg = probe?._tag === "Ok" ? probe.status : undefined
    instances.push({
      name: podName,
      ...(pod.spec?.nodeName === undefined ? {} : { node: pod.spec.nodeName }),
      podPhase,
      podReady,
      ...(pg === undefined
        ? {}
        : { role: pg.role, roleDetail: pg.roleDetail, currentLsn: pg.currentLsn, pendingRestart: pg.pendingRestart }),
      fenced: pg?.fenced ?? isFenced(fenced, podName),
      ...(probe?._tag === "Failed" ? { unreachable: probe.reason } : {}),
    })
    if (podPhase !== "Running" && podPhase !== "Terminating") {
      const own = events.filter((e) => e.involvedObject.name === podName)
      const reasons = [podTrouble(pod, own)]
      const node = volumeNode.get(podName)
      const nodeView = node === undefined ? undefined : nodes.get(node)
      if (node !== undefined && nodeView?.spec?.unschedulable === true) {
        reasons.push(`its volume ${podName} is bound to node ${node}, which is cordoned (kubectl uncordon ${node})`)
      } else if (node !== undefined && nodeView !== undefined && !nodeView.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) {
        reasons.push(`its volume ${podName} is bound to node ${node}, which is not Ready`)
      } else if (node !== undefined && o.nodes !== undefined && nodeView === undefined) {
        reasons.push(`its volume ${podName} is bound to node ${node}, which no longer exists`)
      }
      pending.push({ name: podName, reason: reasons.filter((r) => r !== undefined).join("; ") || `pod is ${podPhase}` })
    }
  }
  // Instances the Cluster names that have no pod at all.
  for (const missing of status?.instanceNames ?? []) {
    if (!pods.some((p) => p.metadata.name === missing)) pending.push({ name: missing, reason: "no pod (the operator has not created it yet)" })
  }

  const primary = status?.currentPrimary
  // During a hand-over the new primary may already stream to the others: ask whoever runs as primary.
  const primaryProbe = [primary === undefined ? undefined : o.probes.get(primary), ...o.probes.values()]
    .find((p) => p?._tag === "Ok" && p.status.isPrimary)
  const replication: Array<Standby> = primaryProbe?._tag === "Ok"
    ? primaryProbe.status.replication.map((r) => ({
      name: r.applicationName,
      state: r.state,
      sentLsn: r.sentLsn,
      writeLsn: r.writeLsn,
      flushLsn: r.flushLsn,
      replayLsn: r.replayLsn,
      lagBytes: r.replayLagBytes,
      writeLagSeconds: r.writeLagSeconds,
      flushLagSeconds: r.flushLagSeconds,
      replayLagSeconds: r.replayLagSeconds,
      syncState: r.syncState,
      syncPriority: r.syncPriority,
    }))
    : []

  const pdbs: Array<Pdb> | undefined = o.pdbs === undefined ? undefined : decodeAll(PdbView, o.pdbs).map((p) => ({
    name: p.metadata.name,
    role: p.metadata.name === `${name}-primary` ? "primary" : "replica",
    ...(p.spec?.minAvailable === undefined ? {} : { minAvailable: String(p.spec.minAvailable) }),
    ...(p.spec?.maxUnavailable === undefined ? {} : { maxUnavailable: String(p.spec.maxUnavailable) }),
    currentHealthy: p.status?.currentHealthy ?? 0,
    desiredHealthy: p.status?.desiredHealthy ?? 0,
    disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
  }))

  const target = status?.targetPrimary
  const systemId = status?.systemID ?? [...o.probes.values()].flatMap((p) => p._tag === "Ok" && p.status.systemId !== null ? [p.status.systemId] : [])[0]
  const image = status?.image ?? cluster.spec.imageName
  return {
    summary: {
      name,
      namespace: o.namespace,
      ...(systemId === undefined ? {} : { systemId }),
      ...(image === undefined ? {} : { image }),
      ...(primary === undefined ? {} : { primary }),
      ...(status?.currentPrimaryTimestamp === undefined ? {} : { primarySince: status.currentPrimaryTimestamp }),
      ...(target === undefined || target === primary ? {} : { targetPrimary: target }),
      ...(target === undefined || target === primary || status?.targetPrimaryTimestamp === undefined ? {} : { targetSince: status.targetPrimaryTimestamp }),
      ...(status?.timelineID === undefined ? {} : { timeline: status.timelineID }),
      ...(status?.phase === undefined ? {} : { phase: status.phase }),
      ...(status?.phaseReason === undefined || status.phaseReason === "" ? {} : { phaseReason: status.phaseReason }),
      instances: cluster.spec.instances,
      readyInstances: status?.readyInstances ?? instances.filter((i) => i.podReady).length,
      fenced,
    },
    certificates: Object.entries(status?.certificates?.expirations ?? {})
      .map(([certificate, expires]) => ({ name: certificate, expires }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    replication,
    instances,
    pending,
    ...(pdbs === undefined ? {} : { pdbs }),
    warnings: o.warnings,
    observedAt: o.now.toISOString(),
  }
}
