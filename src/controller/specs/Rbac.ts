/**
 * The identity of a Cluster's pods: a ServiceAccount and a Role that lets the instance
 * manager read its own Cluster and the Secrets and ConfigMaps it names, record
 * `status.currentPrimary`, and emit Events — nothing else.
 */
import type { V1Role, V1RoleBinding, V1ServiceAccount } from "@kubernetes/client-node"
import type { Cluster } from "../../api/Cluster.ts"
import { defaultMonitoringConfigMap, names } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

/** Every Secret an instance may read: the operator's and those the spec names. */
export const instanceSecrets = (cluster: Cluster): ReadonlyArray<string> => {
  const n = names(cluster.metadata.name)
  const spec = cluster.spec
  const named = [
    spec.superuserSecret?.name,
    spec.bootstrap?.initdb?.secret?.name,
    ...(spec.monitoring?.customQueriesSecret ?? []).map((s) => s.name),
  ].filter((s): s is string => s !== undefined)
  return [...new Set([n.appSecret, n.superuserSecret, n.caSecret, n.serverSecret, n.replicationSecret, ...named])].sort()
}

const instanceConfigMaps = (cluster: Cluster): ReadonlyArray<string> =>
  [...new Set([defaultMonitoringConfigMap, ...(cluster.spec.monitoring?.customQueriesConfigMap ?? []).map((c) => c.name)])].sort()

export const serviceAccount = (cluster: Cluster): V1ServiceAccount => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: ownedMeta(cluster, names(cluster.metadata.name).serviceAccount),
})

export const role = (cluster: Cluster): V1Role => {
  const name = cluster.metadata.name
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: ownedMeta(cluster, names(name).role),
    rules: [
      { apiGroups: ["postgresql.tusk.dev"], resources: ["clusters"], resourceNames: [name], verbs: ["get", "list", "watch"] },
      { apiGroups: ["postgresql.tusk.dev"], resources: ["clusters/status"], resourceNames: [name], verbs: ["get", "patch"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: [...instanceSecrets(cluster)], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: [...instanceConfigMaps(cluster)], verbs: ["get", "list", "watch"] },
      { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
    ],
  }
}

export const roleBinding = (cluster: Cluster): V1RoleBinding => {
  const n = names(cluster.metadata.name)
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: ownedMeta(cluster, n.roleBinding),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: n.role },
    subjects: [{ kind: "ServiceAccount", name: n.serviceAccount, namespace: cluster.metadata.namespace ?? "default" }],
  }
}
