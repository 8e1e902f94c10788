/**
 * Monitoring objects: the PodMonitor that points Prometheus at every instance's metrics
 * port, when asked for and when the Prometheus Operator's CRD exists.
 */
import type { Cluster } from "../../api/Cluster.ts"
import { labels, names } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

/** A monitoring.coreos.com/v1 PodMonitor (not in client-node's types). */
export interface PodMonitor {
  readonly apiVersion: "monitoring.coreos.com/v1"
  readonly kind: "PodMonitor"
  readonly metadata: ReturnType<typeof ownedMeta>
  readonly spec: {
    readonly selector: { readonly matchLabels: Record<string, string> }
    readonly podMetricsEndpoints: ReadonlyArray<{ readonly port: string }>
  }
}

/** The PodMonitor of a Cluster, or undefined when `monitoring.enablePodMonitor` is off. */
export const podMonitor = (cluster: Cluster): PodMonitor | undefined =>
  cluster.spec.monitoring?.enablePodMonitor === true
    ? {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: ownedMeta(cluster, names(cluster.metadata.name).podMonitor),
        spec: {
          selector: { matchLabels: { [labels.cluster]: cluster.metadata.name, [labels.podRole]: "instance" } },
          podMetricsEndpoints: [{ port: "metrics" }],
        },
      }
    : undefined
