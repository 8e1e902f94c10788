/**
 * What the demo reads from the API server and says about it: the few fields of a
 * Cluster and its Pods it needs (decoded with Schemas, everything else ignored), one
 * progress line per change, whether the Cluster is healthy, which pods to show logs
 * of when it is not; also whether dist/tusk is stale and psql's connection string.
 * Pure: no I/O.
 */
import { Schema } from "effect"

/** The phase CloudNativePG (and Tusk) report once every instance is up. */
export const healthyPhase = "Cluster in healthy state"

const ContainerState = Schema.Struct({
  waiting: Schema.optional(Schema.Struct({ reason: Schema.optional(Schema.String) })),
  terminated: Schema.optional(Schema.Struct({ reason: Schema.optional(Schema.String), exitCode: Schema.optional(Schema.Number) })),
})

const ContainerStatus = Schema.Struct({
  name: Schema.String,
  ready: Schema.Boolean,
  restartCount: Schema.Number,
  state: Schema.optional(ContainerState),
})
export type ContainerStatus = typeof ContainerStatus.Type

export const Pod = Schema.Struct({
  metadata: Schema.Struct({ name: Schema.String, namespace: Schema.optional(Schema.String) }),
  spec: Schema.optional(Schema.Struct({ nodeName: Schema.optional(Schema.String) })),
  status: Schema.optional(
    Schema.Struct({
      phase: Schema.optional(Schema.String),
      containerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
      initContainerStatuses: Schema.optional(Schema.Array(ContainerStatus)),
    }),
  ),
})
export type Pod = typeof Pod.Type

export const PodList = Schema.Struct({ items: Schema.Array(Pod) })

const Condition = Schema.Struct({
  type: Schema.String,
  status: Schema.String,
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
})

export const Cluster = Schema.Struct({
  metadata: Schema.Struct({ name: Schema.String }),
  spec: Schema.Struct({ instances: Schema.Number }),
  status: Schema.optional(
    Schema.Struct({
      phase: Schema.optional(Schema.String),
      phaseReason: Schema.optional(Schema.String),
      instances: Schema.optional(Schema.Number),
      readyInstances: Schema.optional(Schema.Number),
      currentPrimary: Schema.optional(Schema.String),
      conditions: Schema.optional(Schema.Array(Condition)),
    }),
  ),
})
export type Cluster = typeof Cluster.Type

/** The name a manifest gives its object. */
export const Manifest = Schema.Struct({ metadata: Schema.Struct({ name: Schema.String }) })

/** A Secret's data, base64 as the API serves it. */
export const Secret = Schema.Struct({ data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })) })

export const Service = Schema.Struct({ spec: Schema.Struct({ clusterIP: Schema.optional(Schema.String) }) })

export const NodeList = Schema.Struct({
  items: Schema.Array(
    Schema.Struct({
      metadata: Schema.Struct({ name: Schema.String }),
      status: Schema.optional(Schema.Struct({ conditions: Schema.optional(Schema.Array(Condition)) })),
    }),
  ),
})

export const Crd = Schema.Struct({
  status: Schema.optional(Schema.Struct({ conditions: Schema.optional(Schema.Array(Condition)) })),
})

/** Whether a CustomResourceDefinition is served (a brand-new one has no conditions yet). */
export const established = (crd: typeof Crd.Type): boolean =>
  (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True")

/** Names of the nodes whose Ready condition is True. */
export const readyNodes = (nodes: typeof NodeList.Type): Array<string> =>
  nodes.items
    .filter((n) => (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"))
    .map((n) => n.metadata.name)

const containers = (pod: Pod): ReadonlyArray<ContainerStatus> => pod.status?.containerStatuses ?? []
const restarts = (pod: Pod): number =>
  [...containers(pod), ...(pod.status?.initContainerStatuses ?? [])].reduce((n, c) => n + c.restartCount, 0)

/** Why a container is not running, as kubectl shows it (CrashLoopBackOff, ErrImagePull, Error...). */
const stateReason = (c: ContainerStatus): string | undefined => c.state?.waiting?.reason ?? c.state?.terminated?.reason

/** Whether a pod's work is done or it is up with every container ready. */
const isSettled = (pod: Pod): boolean =>
  pod.status?.phase === "Succeeded" ||
  (pod.status?.phase === "Running" && containers(pod).length > 0 && containers(pod).every((c) => c.ready))

/** "mycluster-1 Running 1/1", "mycluster-2-join-x Init:0/1", "mycluster-2 CrashLoopBackOff 0/1 (3 restarts)". */
export const podSummary = (pod: Pod): string => {
  const cs = containers(pod)
  const inits = pod.status?.initContainerStatuses ?? []
  const pendingInit = inits.findIndex((c) => !(c.state?.terminated?.exitCode === 0))
  const reason = [...inits, ...cs].map(stateReason).find((r) => r !== undefined && r !== "Completed")
  const phase = pod.status?.phase ?? "Pending"
  const state =
    phase === "Succeeded" || phase === "Failed"
      ? phase
      : reason ?? (pendingInit >= 0 && phase === "Pending" && inits.length > 0 ? `Init:${pendingInit}/${inits.length}` : phase)
  const ready = phase === "Succeeded" ? "" : ` ${cs.filter((c) => c.ready).length}/${Math.max(cs.length, 1)}`
  const n = restarts(pod)
  return `${pod.metadata.name} ${state}${ready}${n > 0 ? ` (${n} restart${n === 1 ? "" : "s"})` : ""}`
}

/** One progress line: phase, ready instances and the pods, e.g. for every change while waiting. */
export const clusterLine = (cluster: Cluster | undefined, pods: ReadonlyArray<Pod>): string => {
  const status = cluster?.status
  const phase = status?.phase === undefined ? "no phase yet" : `phase "${status.phase}"`
  const ready = `ready ${status?.readyInstances ?? 0}/${cluster?.spec.instances ?? "?"}`
  const primary = status?.currentPrimary === undefined ? "" : `, primary ${status.currentPrimary}`
  // Finished Job pods only count: the line stays short as the cluster grows.
  const live = pods.filter((p) => p.status?.phase !== "Succeeded")
  const done = pods.length - live.length
  const podList = [...live.map(podSummary), ...(done > 0 ? [`${done} completed`] : [])].join(", ") || "none"
  return `${phase}, ${ready}${primary}; pods: ${podList}`
}

/** Healthy: the healthy phase with every requested instance ready. */
export const isHealthy = (cluster: Cluster | undefined): boolean =>
  cluster?.status?.phase === healthyPhase && cluster.status.readyInstances === cluster.spec.instances

/** Whether a pod that is not ready has restarted `limit` times or more. */
export const crashLooping = (pods: ReadonlyArray<Pod>, limit: number): boolean =>
  pods.some((p) => !isSettled(p) && restarts(p) >= limit)

export const Deployment = Schema.Struct({
  metadata: Schema.Struct({ generation: Schema.optional(Schema.Number) }),
  spec: Schema.Struct({ replicas: Schema.optional(Schema.Number) }),
  status: Schema.optional(
    Schema.Struct({
      observedGeneration: Schema.optional(Schema.Number),
      replicas: Schema.optional(Schema.Number),
      updatedReplicas: Schema.optional(Schema.Number),
      availableReplicas: Schema.optional(Schema.Number),
    }),
  ),
})
export type Deployment = typeof Deployment.Type

/** `kubectl rollout status` in one predicate: the current template runs on every replica, and nothing older is left. */
export const rolledOut = (d: Deployment): boolean => {
  const want = d.spec.replicas ?? 1
  const s = d.status
  return (
    s !== undefined &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) === (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= want
  )
}

/** Pods worth showing logs of: not done and not fully ready, or restarted. `previous` asks for the last crashed run too. */
export const troubledPods = (pods: ReadonlyArray<Pod>): Array<{ readonly name: string; readonly previous: boolean }> =>
  pods
    .filter((p) => !isSettled(p) || restarts(p) > 0)
    .map((p) => ({ name: p.metadata.name, previous: restarts(p) > 0 }))

/** Newer sources than the binary (or no binary) mean a rebuild. */
export const needsBuild = (binaryMtimeMs: number | undefined, sourceMtimesMs: ReadonlyArray<number>): boolean =>
  binaryMtimeMs === undefined || sourceMtimesMs.some((m) => m > binaryMtimeMs)

/** libpq keywords for psql: the Service name for TLS and \conninfo, its ClusterIP to reach it. */
export const conninfo = (service: string, clusterIp: string, user: string, dbname: string): string =>
  `host=${service} hostaddr=${clusterIp} port=5432 user=${user} dbname=${dbname}`
