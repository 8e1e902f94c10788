/**
 * The three Services of a Cluster. They never change on failover: the -rw and -ro
 * selectors match the `tusk.dev/instanceRole` label, and failover moves the label.
 */
import type { V1Service } from "@kubernetes/client-node"
import type { Cluster } from "../../api/Cluster.ts"
import { labels, names, ports } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

const service = (cluster: Cluster, name: string, selector: Record<string, string>): V1Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: ownedMeta(cluster, name),
  spec: {
    type: "ClusterIP",
    selector: { [labels.cluster]: cluster.metadata.name, ...selector },
    ports: [{ name: "postgres", port: ports.postgres, targetPort: ports.postgres, protocol: "TCP" }],
    // A primary that stops being ready must stop receiving new connections at once.
    publishNotReadyAddresses: false,
  },
})

/** `-rw` (the primary), `-ro` (replicas) and `-r` (any instance). */
export const services = (cluster: Cluster): ReadonlyArray<V1Service> => {
  const n = names(cluster.metadata.name)
  return [
    service(cluster, n.rwService, { [labels.instanceRole]: "primary" }),
    service(cluster, n.roService, { [labels.instanceRole]: "replica" }),
    service(cluster, n.rService, { [labels.podRole]: "instance" }),
  ]
}
