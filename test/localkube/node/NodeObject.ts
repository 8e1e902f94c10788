/**
 * The Node and Lease objects a node agent registers and keeps fresh. Pure builders.
 */
import { release } from "node:os"
import * as Layout from "../layout.ts"

export interface NodeIdentity {
  readonly index: number
  readonly name: string
  readonly address: string
  readonly cpu: number
  readonly memoryBytes: number
  readonly maxPods: number
}

export const identity = (n: number): NodeIdentity => ({
  index: n,
  name: Layout.nodeName(n),
  address: Layout.nodeAddress(n),
  cpu: 4,
  memoryBytes: 8 * 2 ** 30,
  maxPods: 110,
})

export const nodeLabels = (id: NodeIdentity): Record<string, string> => ({
  "kubernetes.io/hostname": id.name,
  "kubernetes.io/os": "linux",
  "kubernetes.io/arch": "amd64",
  "beta.kubernetes.io/os": "linux",
  "beta.kubernetes.io/arch": "amd64",
  "topology.kubernetes.io/zone": Layout.nodeZone(id.index),
  "topology.kubernetes.io/region": "local",
})

export const nodeObject = (id: NodeIdentity) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: id.name, labels: nodeLabels(id) },
  spec: { podCIDR: Layout.nodePodCidr(id.index), podCIDRs: [Layout.nodePodCidr(id.index)] },
})

const resources = (id: NodeIdentity) => ({
  cpu: String(id.cpu),
  memory: `${id.memoryBytes / 2 ** 10}Ki`,
  pods: String(id.maxPods),
  "ephemeral-storage": "100Gi",
})

/** The node status the kubelet reports: every condition healthy, addresses, capacity. */
export const nodeStatus = (id: NodeIdentity, now: string, since: string) => {
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
  })
  return {
    capacity: resources(id),
    allocatable: resources(id),
    conditions: [
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ],
    addresses: [
      { type: "InternalIP", address: id.address },
      { type: "Hostname", address: id.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: Layout.ports.kubelet } },
    nodeInfo: {
      machineID: `localkube-${id.name}`,
      systemUUID: `localkube-${id.name}`,
      bootID: `localkube-${id.name}`,
      kernelVersion: release(),
      osImage: "localkube node agent",
      containerRuntimeVersion: "localkube://1",
      kubeletVersion: Layout.kubernetesVersion,
      kubeProxyVersion: Layout.kubernetesVersion,
      operatingSystem: "linux",
      architecture: "amd64",
    },
  }
}

/** Lease duration the node controller compares renewals against. */
export const leaseDurationSeconds = 40

/** The heartbeat Lease in kube-node-lease, renewed at `now` (RFC3339 with microseconds). */
export const leaseObject = (id: NodeIdentity, now: string, resourceVersion?: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: {
    name: id.name,
    namespace: "kube-node-lease",
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  },
  spec: { holderIdentity: id.name, leaseDurationSeconds, renewTime: now },
})

/** RFC3339 with microseconds, as MicroTime fields require. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")
