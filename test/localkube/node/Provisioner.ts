/**
 * Local storage: the default StorageClass `local` (WaitForFirstConsumer, reclaim
 * Delete) and, per node, a provisioner that creates a local PV under
 * <state dir>/volumes/<pv> for every claim the scheduler assigned to this node
 * (annotation volume.kubernetes.io/selected-node), and deletes the data and the PV
 * once the claim is gone (PV Released).
 */
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Cause, Effect, Schema, Stream } from "effect"
import { KubeClient, type KubeError } from "./Kube.ts"
import { Pv, Pvc } from "./Objects.ts"

export const storageClassName = "local"
export const provisionerName = "localkube.tusk.dev/local"
const selectedNode = "volume.kubernetes.io/selected-node"
const provisionedBy = "pv.kubernetes.io/provisioned-by"

export const storageClass = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: storageClassName, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
  provisioner: provisionerName,
  reclaimPolicy: "Delete",
  volumeBindingMode: "WaitForFirstConsumer",
}

/** The PV for a claim on a node. Pure. */
export const pvFor = (pvc: typeof Pvc.Type, node: string, path: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: `pvc-${pvc.metadata.uid}`, annotations: { [provisionedBy]: provisionerName } },
  spec: {
    capacity: { storage: pvc.spec.resources?.requests?.["storage"] ?? "1Gi" },
    accessModes: pvc.spec.accessModes ?? ["ReadWriteOnce"],
    volumeMode: pvc.spec.volumeMode ?? "Filesystem",
    persistentVolumeReclaimPolicy: "Delete",
    storageClassName,
    claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
    local: { path },
    nodeAffinity: {
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] },
    },
  },
})

const ignoreConflict = (e: KubeError) => (e.status === 409 || e.status === 404 ? Effect.void : Effect.fail(e))

/** Creates the default StorageClass unless it exists. */
export const ensureStorageClass = Effect.gen(function* () {
  const kube = yield* KubeClient
  yield* kube.request("POST", "/apis/storage.k8s.io/v1/storageclasses", { body: storageClass }).pipe(Effect.catchAll(ignoreConflict))
})

/** Runs the provisioner for one node until interrupted. Needs a client allowed to manage PVs. */
export const run = (node: string, volumesDir: string) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    const provision = (raw: unknown) =>
      Effect.gen(function* () {
        const pvc = Schema.decodeUnknownSync(Pvc)(raw)
        if (pvc.metadata.annotations?.[selectedNode] !== node) return
        if ((pvc.spec.storageClassName ?? storageClassName) !== storageClassName) return
        if ((pvc.spec.volumeName ?? "") !== "" || pvc.status?.phase === "Bound" || pvc.metadata.deletionTimestamp !== undefined) return
        const path = join(volumesDir, `pvc-${pvc.metadata.uid}`)
        mkdirSync(path, { recursive: true, mode: 0o777 })
        yield* kube.request("POST", "/api/v1/persistentvolumes", { body: pvFor(pvc, node, path) }).pipe(Effect.catchAll(ignoreConflict))
      })
    const reclaim = (raw: unknown) =>
      Effect.gen(function* () {
        const pv = Schema.decodeUnknownSync(Pv)(raw)
        const path = pv.spec.local?.path
        if (pv.metadata.annotations?.[provisionedBy] !== provisionerName || path === undefined) return
        if (!path.startsWith(`${volumesDir}/`)) return
        if (pv.status?.phase !== "Released" || pv.spec.persistentVolumeReclaimPolicy !== "Delete") return
        rmSync(path, { recursive: true, force: true })
        yield* kube.request("DELETE", `/api/v1/persistentvolumes/${pv.metadata.name}`).pipe(Effect.catchAll(ignoreConflict))
      })
    const each = (f: (raw: unknown) => Effect.Effect<void, KubeError>) => (e: { readonly type: string; readonly object: unknown }) =>
      (e.type === "SYNC" ? Effect.forEach(e.object as ReadonlyArray<unknown>, f, { discard: true }) : e.type === "DELETED" ? Effect.void : f(e.object)).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning(`provisioner: ${Cause.pretty(cause)}`)),
      )
    yield* Effect.all(
      [
        Stream.runForEach(kube.listWatch("/api/v1/persistentvolumeclaims", ""), each(provision)),
        Stream.runForEach(kube.listWatch("/api/v1/persistentvolumes", ""), each(reclaim)),
      ],
      { concurrency: "unbounded", discard: true },
    )
  })
