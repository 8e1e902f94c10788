/**
 * PodDisruptionBudgets: the primary may not be evicted while it is primary (a drain
 * waits until the operator has switched over), and replicas go one at a time.
 */
import type { V1PodDisruptionBudget } from "@kubernetes/client-node"
import type { Cluster } from "../../api/Cluster.ts"
import { labels, names } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

/** `c-primary` (minAvailable 1 over the primary) and `c` (all replicas but one, with 3+ instances). */
export const disruptionBudgets = (cluster: Cluster): ReadonlyArray<V1PodDisruptionBudget> => {
  if (!cluster.spec.enablePDB) return []
  const name = cluster.metadata.name
  const n = names(name)
  const primary: V1PodDisruptionBudget = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMeta(cluster, n.primaryPdb),
    spec: {
      minAvailable: 1,
      selector: { matchLabels: { [labels.cluster]: name, [labels.instanceRole]: "primary" } },
    },
  }
  if (cluster.spec.instances < 3) return [primary]
  const replicas: V1PodDisruptionBudget = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMeta(cluster, n.replicaPdb),
    // An integer minAvailable: a percentage or maxUnavailable would make the disruption
    // controller count the Cluster's scale (primary included) and allow no eviction at all.
    spec: {
      minAvailable: cluster.spec.instances - 2,
      selector: { matchLabels: { [labels.cluster]: name, [labels.instanceRole]: "replica" } },
    },
  }
  return [primary, replicas]
}
