/**
 * Metadata every object owned by a Cluster carries: its labels, the Cluster's inherited
 * labels and annotations, and an owner reference so that deleting the Cluster deletes it.
 */
import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node"
import { apiVersion, type Cluster } from "../../api/Cluster.ts"
import { labels } from "../../api/Naming.ts"

/** The owner reference that ties an object to its Cluster (garbage collection, watches). */
export const ownerReference = (cluster: Cluster): V1OwnerReference => ({
  apiVersion,
  kind: "Cluster",
  name: cluster.metadata.name,
  uid: cluster.metadata.uid ?? "",
  controller: true,
  blockOwnerDeletion: true,
})

/** Labels that select everything of one Cluster. */
export const clusterLabels = (cluster: Cluster): Record<string, string> => ({
  [labels.cluster]: cluster.metadata.name,
  [labels.appName]: "postgresql",
  [labels.appInstance]: cluster.metadata.name,
  [labels.appManagedBy]: "tusk",
})

/** Metadata of an object named `name` owned by `cluster`. */
export const ownedMeta = (
  cluster: Cluster,
  name: string,
  extraLabels: Record<string, string> = {},
  extraAnnotations: Record<string, string> = {},
): V1ObjectMeta => {
  const inherited = cluster.spec.inheritedMetadata
  const annotations = { ...inherited?.annotations, ...extraAnnotations }
  return {
    name,
    namespace: cluster.metadata.namespace ?? "default",
    labels: { ...inherited?.labels, ...clusterLabels(cluster), ...extraLabels },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(cluster)],
  }
}
