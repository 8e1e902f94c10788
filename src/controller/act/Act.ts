/**
 * Carrying out a plan: each Action becomes one API call, built from the Cluster by the
 * pure specs. Creations tolerate AlreadyExists and deletions NotFound, so a plan acted on
 * twice (after a crash, or by a new leader) converges to the same state.
 */
import { Effect } from "effect"
import type { Cluster, ClusterStatus } from "../../api/Cluster.ts"
import { annotations, labels } from "../../api/Naming.ts"
import * as KubeClient from "../../kube/KubeClient.ts"
import type * as KubeError from "../../kube/KubeError.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import * as Kinds from "../Kinds.ts"
import type { Action } from "../plan/Action.ts"
import type { Kind } from "../Kinds.ts"
import { bootstrapJob, dataPvc, type ImageSettings, instancePod, podTemplateHash } from "../specs/Instances.ts"

const ignore = (tag: KubeError.KubeError["_tag"]) => (e: KubeError.KubeError) => e._tag === tag

const create = (kind: Kind, object: object, namespace: string | undefined) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.create(kind, object as Unstructured, { namespace }).pipe(Effect.asVoid, Effect.catchIf(ignore("AlreadyExists"), () => Effect.void)),
  )

const remove = (kind: Kind, name: string, namespace: string | undefined) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.delete(kind, name, { namespace, propagationPolicy: "Background" }).pipe(Effect.catchIf(ignore("NotFound"), () => Effect.void)),
  )

const mergePatch = (kind: Kind, name: string, namespace: string | undefined, patch: unknown) =>
  Effect.flatMap(KubeClient.KubeClient, (client) => client.patch(kind, name, { type: "merge", patch }, { namespace }))

/** Carry out one action for `cluster`. */
export const act = (cluster: Cluster, images: ImageSettings, action: Action) => {
  const namespace = cluster.metadata.namespace
  const instance = (serial: number) => `${cluster.metadata.name}-${serial}`
  switch (action._tag) {
    case "CreatePvc":
      return create(Kinds.pvcs, dataPvc(cluster, action.serial), namespace)
    case "CreateJob":
      return create(Kinds.jobs, bootstrapJob(cluster, action.serial, action.kind, images), namespace)
    case "MarkPvcReady":
      return mergePatch(Kinds.pvcs, instance(action.serial), namespace, {
        metadata: { annotations: { [annotations.pvcStatus]: "ready" } },
      })
    case "CreatePod": {
      const pod = instancePod(cluster, action.serial, images)
      const metadata = {
        ...pod.metadata,
        labels: { ...pod.metadata?.labels, [labels.instanceRole]: action.role },
        annotations: { ...pod.metadata?.annotations, [annotations.specHash]: podTemplateHash(cluster, images) },
      }
      return create(Kinds.pods, { ...pod, metadata }, namespace)
    }
    case "SetRoleLabel":
      return mergePatch(Kinds.pods, action.podName, namespace, { metadata: { labels: { [labels.instanceRole]: action.role } } })
    case "RestartInPlace":
      return Effect.flatMap(KubeClient.KubeClient, (client) =>
        client.patch(
          Kinds.clusters,
          cluster.metadata.name,
          { type: "merge", patch: { metadata: { annotations: { [annotations.restartInstances]: JSON.stringify(action.tokens) } } } },
          { namespace },
        ),
      )
    case "DeletePod":
      return remove(Kinds.pods, action.name, namespace)
    case "DeleteJob":
      return remove(Kinds.jobs, action.name, namespace)
    case "DeletePvc":
      return remove(Kinds.pvcs, action.name, namespace)
  }
}

const defined = (o: object) => Object.entries(o).filter(([, v]) => v !== undefined)

/**
 * Equality of JSON values whatever the order of object keys: the API server returns the
 * keys of a custom resource's maps sorted, while the plan builds them in its own order.
 */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  }
  const entries = defined(a)
  const other = new Map(defined(b))
  return entries.length === other.size && entries.every(([k, v]) => other.has(k) && sameJson(v, other.get(k)))
}

/** The fields of `next` that differ from `current` (undefined when nothing changed). */
export const statusDelta = (current: Readonly<Record<string, unknown>>, next: Readonly<Record<string, unknown>>) => {
  const delta: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(next)) if (!sameJson(current[k], v)) delta[k] = v
  return Object.keys(delta).length === 0 ? undefined : delta
}

/**
 * Write the status fields that changed through the status subresource; nothing when none did.
 * The write holds only if the Cluster is still the one the plan read (its resourceVersion):
 * a decision taken on an old view (say, that a former primary is stopped, while it has since
 * started again) fails with Conflict instead of overwriting newer facts.
 */
export const writeStatus = (cluster: Cluster, next: ClusterStatus) =>
  Effect.gen(function* () {
    const delta = statusDelta(cluster.status ?? {}, next)
    if (delta === undefined) return false
    const client = yield* KubeClient.KubeClient
    const patch = { metadata: { resourceVersion: cluster.metadata.resourceVersion }, status: delta }
    yield* client.patch(Kinds.clusters, cluster.metadata.name, { type: "merge", patch }, {
      namespace: cluster.metadata.namespace,
      subresource: "status",
    })
    return true
  })
