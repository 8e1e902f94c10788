/**
 * Volumes of a pod, made on the host under the pod's directory (or, for PVCs, the
 * PV's directory) and turned into bind mounts for the holder. Secrets, ConfigMaps,
 * downward API and projected volumes are written as files (re-written on refresh);
 * emptyDir medium Memory becomes a tmpfs inside the pod's mount namespace only.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Data, Effect, Schema } from "effect"
import type { BindMount } from "./Holder.ts"
import { resolveImage } from "./Images.ts"
import { KubeClient, type KubeError } from "./Kube.ts"
import { fieldValue, resourceValue, type PodRuntime } from "./Downward.ts"
import { DataObject, Pv, Pvc, TokenRequestStatus, type Pod, type ProjectionSource, type Volume } from "./Objects.ts"

export class VolumeError extends Data.TaggedError("VolumeError")<{ readonly message: string }> {}

export interface VolumeSetup {
  readonly mounts: ReadonlyArray<BindMount>
  readonly tmpfs: ReadonlyArray<{ readonly dir: string; readonly gid?: number }>
  /** Earliest time (ms) a projected token must be refreshed, if any. */
  readonly refreshAt?: number
}

const ns = (pod: Pod) => pod.metadata.namespace ?? "default"

/** Reads a Secret or ConfigMap as key -> bytes; undefined when absent. */
export const getData = Effect.fn("Volumes.getData")(function* (kind: "secrets" | "configmaps", namespace: string, name: string) {
  const kube = yield* KubeClient
  const raw = yield* kube.request("GET", `/api/v1/namespaces/${namespace}/${kind}/${name}`).pipe(
    Effect.catchIf((e: KubeError) => e.status === 404, () => Effect.succeed(undefined)),
  )
  if (raw === undefined) return undefined
  const obj = Schema.decodeUnknownSync(DataObject)(raw)
  const out = new Map<string, Buffer>()
  for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, kind === "secrets" ? Buffer.from(v, "base64") : Buffer.from(v))
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(v, "base64"))
  return out
})

interface FileOut {
  readonly path: string
  readonly content: Buffer
  readonly mode: number
}

const writeFiles = (dir: string, files: ReadonlyArray<FileOut>, gid: number | undefined) => {
  mkdirSync(dir, { recursive: true })
  for (const f of files) {
    const target = join(dir, f.path)
    mkdirSync(dirname(target), { recursive: true })
    // Write beside and rename: a reader never sees half a file.
    const tmp = `${target}.lktmp`
    writeFileSync(tmp, f.content, { mode: f.mode })
    chmodSync(tmp, f.mode)
    if (gid !== undefined) chownSync(tmp, 0, gid)
    renameSync(tmp, target)
  }
  chmodSync(dir, 0o755)
}

const pick = (
  data: Map<string, Buffer>,
  items: ReadonlyArray<{ readonly key: string; readonly path: string; readonly mode?: number | undefined }> | undefined,
  mode: number,
): Array<FileOut> =>
  items === undefined
    ? [...data].map(([k, v]) => ({ path: k, content: v, mode }))
    : items.flatMap((i) => {
        const v = data.get(i.key)
        return v === undefined ? [] : [{ path: i.path, content: v, mode: i.mode ?? mode }]
      })

const missing = (what: string) => new VolumeError({ message: `${what} not found` })

const projectedFiles = Effect.fn("Volumes.projected")(function* (
  pod: Pod,
  rt: PodRuntime,
  sources: ReadonlyArray<ProjectionSource>,
  mode: number,
) {
  const kube = yield* KubeClient
  const files: Array<FileOut> = []
  let refreshAt: number | undefined
  for (const s of sources) {
    if (s.serviceAccountToken !== undefined) {
      const t = s.serviceAccountToken
      const sa = pod.spec.serviceAccountName ?? "default"
      const res = yield* kube.request("POST", `/api/v1/namespaces/${ns(pod)}/serviceaccounts/${sa}/token`, {
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: {
            audiences: t.audience === undefined ? [] : [t.audience],
            expirationSeconds: t.expirationSeconds ?? 3607,
            boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
          },
        },
      })
      const tr = Schema.decodeUnknownSync(TokenRequestStatus)(res)
      files.push({ path: t.path, content: Buffer.from(tr.status.token), mode })
      // The kubelet refreshes at 80% of the token's lifetime.
      const at = Date.now() + (t.expirationSeconds ?? 3607) * 800
      refreshAt = refreshAt === undefined ? at : Math.min(refreshAt, at)
    }
    for (const [kind, src] of [["configmaps", s.configMap], ["secrets", s.secret]] as const) {
      if (src === undefined) continue
      const data = yield* getData(kind, ns(pod), src.name ?? "")
      if (data === undefined) {
        if (src.optional === true) continue
        return yield* missing(`${kind} ${src.name}`)
      }
      files.push(...pick(data, src.items, mode))
    }
    for (const i of s.downwardAPI?.items ?? []) files.push(downwardFile(pod, rt, i, mode))
  }
  return { files, refreshAt }
})

const downwardFile = (
  pod: Pod,
  rt: PodRuntime,
  i: { readonly path: string; readonly fieldRef?: { readonly fieldPath: string } | undefined; readonly resourceFieldRef?: { readonly containerName?: string | undefined; readonly resource: string; readonly divisor?: string | number | undefined } | undefined; readonly mode?: number | undefined },
  mode: number,
): FileOut => {
  const value =
    i.fieldRef !== undefined
      ? (fieldValue(pod, rt, i.fieldRef.fieldPath) ?? "")
      : i.resourceFieldRef !== undefined
        ? resourceValue(
            pod.spec.containers.find((c) => c.name === i.resourceFieldRef?.containerName),
            rt,
            i.resourceFieldRef.resource,
            i.resourceFieldRef.divisor,
          )
        : ""
  return { path: i.path, content: Buffer.from(value), mode: i.mode ?? mode }
}

/** Host directory of a PVC's bound local PV; fails until it is bound. */
const pvcPath = Effect.fn("Volumes.pvcPath")(function* (namespace: string, claim: string) {
  const kube = yield* KubeClient
  const pvc = Schema.decodeUnknownSync(Pvc)(yield* kube.request("GET", `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claim}`))
  const pvName = pvc.spec.volumeName
  if (pvName === undefined || pvName === "" || pvc.status?.phase !== "Bound") {
    return yield* new VolumeError({ message: `persistentvolumeclaim "${claim}" is not bound` })
  }
  const pv = Schema.decodeUnknownSync(Pv)(yield* kube.request("GET", `/api/v1/persistentvolumes/${pvName}`))
  const path = pv.spec.local?.path ?? pv.spec.hostPath?.path
  if (path === undefined) return yield* new VolumeError({ message: `persistentvolume ${pvName} has no local path` })
  return path
})

/** Makes one volume's host side; returns its host path (undefined for volumes mounted some other way). */
const materialize = Effect.fn("Volumes.materialize")(function* (
  pod: Pod,
  rt: PodRuntime,
  v: Volume,
  dir: string,
  fsGroup: number | undefined,
) {
  if (v.emptyDir !== undefined) {
    mkdirSync(dir, { recursive: true })
    chmodSync(dir, 0o777)
    if (fsGroup !== undefined) {
      chownSync(dir, 0, fsGroup)
      chmodSync(dir, 0o2777)
    }
    return { path: dir, memory: v.emptyDir.medium === "Memory", refreshAt: undefined }
  }
  if (v.persistentVolumeClaim !== undefined) {
    const path = yield* pvcPath(ns(pod), v.persistentVolumeClaim.claimName)
    if (fsGroup !== undefined) {
      const st = statSync(path)
      if (st.gid !== fsGroup) {
        chownSync(path, st.uid, fsGroup)
        chmodSync(path, 0o2775)
      }
    }
    return { path, memory: false, refreshAt: undefined }
  }
  if (v.hostPath !== undefined) return { path: v.hostPath.path, memory: false, refreshAt: undefined }
  let files: Array<FileOut> = []
  let refreshAt: number | undefined
  if (v.secret !== undefined || v.configMap !== undefined) {
    const [kind, name, src] = v.secret !== undefined ? (["secrets", v.secret.secretName, v.secret] as const) : (["configmaps", v.configMap?.name ?? "", v.configMap] as const)
    const data = yield* getData(kind, ns(pod), name)
    if (data === undefined && src?.optional !== true) return yield* missing(`${kind} "${name}"`)
    files = pick(data ?? new Map(), src?.items, src?.defaultMode ?? 0o644)
  } else if (v.downwardAPI !== undefined) {
    files = (v.downwardAPI.items ?? []).map((i) => downwardFile(pod, rt, i, v.downwardAPI?.defaultMode ?? 0o644))
  } else if (v.projected !== undefined) {
    const r = yield* projectedFiles(pod, rt, v.projected.sources, v.projected.defaultMode ?? 0o644)
    files = r.files
    refreshAt = r.refreshAt
  } else {
    return yield* new VolumeError({ message: `volume "${v.name}": unsupported type` })
  }
  writeFiles(dir, files, fsGroup)
  return { path: dir, memory: false, refreshAt }
})

/**
 * Prepares every volume and returns the binds for the holder: each container's
 * volumeMounts (containers of a pod share one mount namespace here, so mounts are
 * merged), plus the image binaries, /etc/hosts, /etc/hostname and /etc/resolv.conf.
 */
export const prepare = Effect.fn("Volumes.prepare")(function* (
  pod: Pod,
  rt: PodRuntime,
  podDir: string,
  operatorBinary: string,
  etcFiles: ReadonlyArray<{ readonly target: string; readonly source: string }>,
) {
  const fsGroup = pod.spec.securityContext?.fsGroup
  const volumes = new Map<string, { path: string; memory: boolean }>()
  const tmpfs: Array<{ dir: string; gid?: number }> = []
  let refreshAt: number | undefined
  for (const v of pod.spec.volumes ?? []) {
    const r = yield* materialize(pod, rt, v, join(podDir, "volumes", v.name), fsGroup)
    volumes.set(v.name, { path: r.path, memory: r.memory })
    if (r.memory) tmpfs.push({ dir: r.path, ...(fsGroup === undefined ? {} : { gid: fsGroup }) })
    if (r.refreshAt !== undefined) refreshAt = refreshAt === undefined ? r.refreshAt : Math.min(refreshAt, r.refreshAt)
  }
  const mounts: Array<BindMount> = etcFiles.map((f) => ({ source: f.source, target: f.target, readOnly: false, file: true }))
  const seen = new Set(mounts.map((m) => m.target))
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers]
  for (const c of containers) {
    for (const b of resolveImage(c.image, operatorBinary)?.binaries ?? []) {
      if (seen.has(b.target) || !existsSync(b.source)) continue
      seen.add(b.target)
      mounts.push({ source: b.source, target: b.target, readOnly: true, file: true })
    }
    for (const m of c.volumeMounts ?? []) {
      if (seen.has(m.mountPath)) continue
      const vol = volumes.get(m.name)
      if (vol === undefined) return yield* new VolumeError({ message: `volumeMount "${m.name}" names no volume` })
      seen.add(m.mountPath)
      let source = vol.path
      let file = false
      if (m.subPath !== undefined && m.subPath !== "") {
        source = join(vol.path, m.subPath)
        try {
          file = !statSync(source).isDirectory()
        } catch {
          mkdirSync(source, { recursive: true })
        }
      }
      mounts.push({ source, target: m.mountPath, readOnly: m.readOnly === true, file })
    }
  }
  return { mounts, tmpfs, ...(refreshAt === undefined ? {} : { refreshAt }) } satisfies VolumeSetup
})

/** Re-writes the projected, secret and configMap volumes' files (token rotation). */
export const refresh = Effect.fn("Volumes.refresh")(function* (pod: Pod, rt: PodRuntime, podDir: string) {
  let refreshAt: number | undefined
  for (const v of pod.spec.volumes ?? []) {
    if (v.projected === undefined) continue
    const r = yield* materialize(pod, rt, v, join(podDir, "volumes", v.name), pod.spec.securityContext?.fsGroup)
    if (r.refreshAt !== undefined) refreshAt = refreshAt === undefined ? r.refreshAt : Math.min(refreshAt, r.refreshAt)
  }
  return refreshAt
})
