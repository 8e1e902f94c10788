/**
 * Values the downward API exposes (env fieldRef/resourceFieldRef, downwardAPI volumes),
 * computed from the pod and its container's resources. Pure.
 */
import type { Container, Pod } from "./Objects.ts"

export interface PodRuntime {
  readonly podIP: string
  readonly hostIP: string
  /** Node allocatable, used when a container sets no limit. */
  readonly nodeCpu: number
  readonly nodeMemoryBytes: number
}

const labelsText = (m: Readonly<Record<string, string>> | undefined): string =>
  Object.entries(m ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n")

/** Value of a fieldRef, or undefined for an unsupported path. */
export const fieldValue = (pod: Pod, rt: PodRuntime, fieldPath: string): string | undefined => {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath)
  if (m !== null) return (m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] ?? ""] ?? ""
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata.name
    case "metadata.namespace":
      return pod.metadata.namespace ?? "default"
    case "metadata.uid":
      return pod.metadata.uid
    case "metadata.labels":
      return labelsText(pod.metadata.labels)
    case "metadata.annotations":
      return labelsText(pod.metadata.annotations)
    case "spec.nodeName":
      return pod.spec.nodeName ?? ""
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "default"
    case "status.podIP":
    case "status.podIPs":
      return rt.podIP
    case "status.hostIP":
    case "status.hostIPs":
      return rt.hostIP
    default:
      return undefined
  }
}

const units: Record<string, number> = {
  "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3,
}

/** Parses a Kubernetes quantity ("500m", "1Gi", "2") into a number of base units. */
export const parseQuantity = (q: string | number): number => {
  if (typeof q === "number") return q
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim())
  if (m === null) return Number.NaN
  return Number(m[1]) * (units[m[2] ?? ""] ?? Number.NaN)
}

/** Value of a resourceFieldRef ("limits.cpu", "requests.memory"...), rounded up by the divisor as the kubelet does. */
export const resourceValue = (
  container: Container | undefined,
  rt: PodRuntime,
  resource: string,
  divisor: string | number | undefined,
): string => {
  const [kind, name] = resource.split(".") as [string, string | undefined]
  const set = kind === "limits" ? container?.resources?.limits : container?.resources?.requests
  const raw = set?.[name ?? ""]
  const fallback = name === "cpu" ? (kind === "limits" ? rt.nodeCpu : 0) : kind === "limits" ? rt.nodeMemoryBytes : 0
  const value = raw === undefined ? fallback : parseQuantity(raw)
  const d = divisor === undefined ? 1 : parseQuantity(divisor)
  return String(Math.ceil(value / (d === 0 ? 1 : d)))
}
