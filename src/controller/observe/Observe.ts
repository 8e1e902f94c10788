/**
 * Building the `Observed` of one Cluster: its instances from the pod, PVC and Job caches,
 * grouped by serial, and each running instance's `/pg/status` fetched in parallel.
 * Only the status requests leave the process; the rest is read from caches.
 */
import { Effect, Option } from "effect"
import type { Cluster } from "../../api/Cluster.ts"
import { labels, names, serialOf } from "../../api/Naming.ts"
import type { Informer } from "../../kube/Informer.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import type { Observed, ObservedInstance, ObservedNode, ObservedStatus } from "../plan/Observed.ts"
import { fetchStatus } from "./InstanceStatus.ts"
import { jobObservation, nodeObservation, podObservation, pvcObservation } from "./Views.ts"

/** The caches observation reads. */
export interface Caches {
  readonly pods: Informer<Unstructured>
  readonly pvcs: Informer<Unstructured>
  readonly jobs: Informer<Unstructured>
  readonly secrets: Informer<Unstructured>
  readonly nodes: Informer<Unstructured>
}

/** Objects of this cluster in its namespace, via the cluster label index. */
export const ownedBy = (informer: Informer<Unstructured>, cluster: Cluster) =>
  Effect.map(informer.byLabel(labels.cluster, cluster.metadata.name), (all) =>
    all.filter((o) => o.metadata.namespace === cluster.metadata.namespace),
  )

/** A Secret's key decoded from base64, when the Secret is cached. */
export const secretValue = (caches: Caches, cluster: Cluster, secret: string, key: string) =>
  Effect.map(caches.secrets.get(`${cluster.metadata.namespace}/${secret}`), (found) =>
    Option.flatMap(found, (s) => {
      const data = (s as { data?: Record<string, string> }).data?.[key]
      return data === undefined ? Option.none() : Option.some(Buffer.from(data, "base64").toString("utf8"))
    }),
  )

export interface ObserveSettings {
  readonly defaultImage: string
  readonly podHash: string
  readonly now: Date
}

/** Everything the plan needs about `cluster`. */
export const observe = (caches: Caches, cluster: Cluster, settings: ObserveSettings) =>
  Effect.gen(function* () {
    const name = cluster.metadata.name
    const [podObjects, pvcObjects, jobObjects, nodeObjects] = yield* Effect.all([
      ownedBy(caches.pods, cluster),
      ownedBy(caches.pvcs, cluster),
      ownedBy(caches.jobs, cluster),
      caches.nodes.list,
    ])
    const pods = podObjects
      .filter((p) => p.metadata.labels?.[labels.podRole] === "instance")
      .flatMap((p) => Option.toArray(podObservation(p)))
    const pvcs = pvcObjects
      .filter((p) => p.metadata.labels?.[labels.pvcRole] === "PG_DATA")
      .flatMap((p) => Option.toArray(pvcObservation(p)))
    // A Job's pods carry its name: the newest one tells why a Job makes no progress.
    const jobPods = podObjects
      .filter((p) => p.metadata.labels?.[labels.podRole] === "job")
      .flatMap((p) => Option.toArray(Option.map(podObservation(p), (o) => ({ ...o, job: p.metadata.labels?.["job-name"] }))))
    const jobs = jobObjects
      .flatMap((j) => Option.toArray(jobObservation(name, j)))
      .map((j) => ({ ...j, waitingReason: jobPods.filter((p) => p.job === j.name).map((p) => p.waitingReason).find((r) => r !== undefined) }))

    const serials = new Set<number>()
    for (const p of pvcs) if (p.serial !== undefined) serials.add(p.serial)
    for (const p of pods) {
      const s = serialOf(name, p.name)
      if (s !== undefined) serials.add(s)
    }
    for (const j of jobs) if (j.serial !== undefined) serials.add(j.serial)

    const ca = yield* secretValue(caches, cluster, names(name).caSecret, "ca.crt")
    const instances = yield* Effect.forEach(
      [...serials].sort((a, b) => a - b),
      (serial) =>
        Effect.gen(function* () {
          const instance = `${name}-${serial}`
          const pod = pods.find((p) => p.name === instance)
          const status: ObservedStatus | undefined =
            pod?.ip !== undefined && pod.phase === "Running" && Option.isSome(ca)
              ? yield* fetchStatus(pod.ip, ca.value)
              : undefined
          const observed: ObservedInstance = {
            serial,
            name: instance,
            pvc: pvcs.find((p) => p.serial === serial || p.name === instance),
            jobs: jobs.filter((j) => j.serial === serial),
            pod,
            status,
          }
          return observed
        }),
      { concurrency: "unbounded" },
    )
    const nodes = new Map<string, ObservedNode>()
    for (const n of nodeObjects.flatMap((o) => Option.toArray(nodeObservation(o)))) nodes.set(n.name, n)
    const observed: Observed = {
      cluster,
      instances,
      nodes,
      defaultImage: settings.defaultImage,
      podHash: settings.podHash,
      now: settings.now,
    }
    return observed
  })
