/**
 * The kinds the Cluster reconciler reads and writes. Tusk's own kinds decode with their
 * Schemas; Kubernetes' kinds are kept as they come and read through narrow views.
 */
import { Cluster } from "../api/Cluster.ts"
import * as Resource from "../kube/Resource.ts"

/** A Kubernetes kind handled untyped. */
export type Kind = ReturnType<typeof Resource.unstructured>

const core = (kind: string, plural: string, namespaced = true) =>
  Resource.unstructured({ group: "", version: "v1", kind, plural, namespaced })

export const clusters = Resource.make(
  { group: "postgresql.tusk.dev", version: "v1", kind: "Cluster", plural: "clusters", namespaced: true },
  Cluster,
)
export const pods = core("Pod", "pods")
export const pvcs = core("PersistentVolumeClaim", "persistentvolumeclaims")
export const services = core("Service", "services")
export const secrets = core("Secret", "secrets")
export const configMaps = core("ConfigMap", "configmaps")
export const serviceAccounts = core("ServiceAccount", "serviceaccounts")
export const nodes = core("Node", "nodes", false)
export const jobs = Resource.unstructured({ group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true })
export const pdbs = Resource.unstructured({
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  namespaced: true,
})
export const roles = Resource.unstructured({ group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true })
export const roleBindings = Resource.unstructured({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "RoleBinding",
  plural: "rolebindings",
  namespaced: true,
})
export const podMonitors = Resource.unstructured({
  group: "monitoring.coreos.com",
  version: "v1",
  kind: "PodMonitor",
  plural: "podmonitors",
  namespaced: true,
})
