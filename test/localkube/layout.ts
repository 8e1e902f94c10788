/**
 * The fixed shape of a local Kubernetes: names, address ranges and paths that the
 * control plane, the node agent and the tests all agree on. Pure data, no I/O.
 *
 * Everything lives in one network namespace per local cluster ("cluster netns") that
 * has no link to the machine's real network: its only interfaces are loopback, a dummy
 * interface carrying the host and node addresses, and the host ends of pod veths.
 * Unreachable routes cover everything outside its own ranges, so no packet can leave.
 *
 * Pods are routed at layer 3 (no bridge): each pod netns has one veth whose peer sits in
 * the cluster netns with a /32 route to the pod and proxy ARP on, and the pod's default
 * route points at the link-local gateway. All pod traffic therefore crosses the cluster
 * netns' IP stack, where kube-proxy's rules and conntrack see both directions.
 */

/** Default name of a local cluster; several may run side by side under other names. */
export const defaultClusterName = "tusk"

/** Name of the cluster network namespace for a local cluster. */
export const clusterNetns = (cluster: string): string => `lk-${cluster}`

/** Dummy interface in the cluster netns that carries the host and node addresses. */
export const hostInterface = "lkhost"

/** Address of the control plane (API server advertise address, etcd, scheduler...). */
export const hostAddress = "10.240.0.1"
/** Prefix length of the host/node address range (10.240.0.0/24). */
export const hostPrefix = 24

/** InternalIP of node N (1-based): 10.240.0.(10+N). The node agent serves the kubelet API there. */
export const nodeAddress = (n: number): string => `10.240.0.${10 + n}`

/** Node names: lk-node-1, lk-node-2, ... */
export const nodeName = (n: number): string => `lk-node-${n}`

/**
 * Node object of the control plane host (10.240.0.1): kube-proxy runs under this name and
 * waits for its Node before programming rules. It is unschedulable and tainted, carries
 * no hostname or zone label (so spread constraints ignore it), and has no kubelet, so it
 * shows NotReady; it never runs pods.
 */
export const controlPlaneNodeName = "lk-control-plane"

/** Zone label of node N: nodes spread over zones a, b, c. */
export const nodeZone = (n: number): string => `zone-${"abc"[(n - 1) % 3]}`

/** Whole pod range; node N owns 10.244.N.0/24 (node.spec.podCIDR). */
export const podCidr = "10.244.0.0/16"
export const nodePodCidr = (n: number): string => `10.244.${n}.0/24`

/** Gateway every pod routes through (host end of its veth answers by proxy ARP). */
export const podGateway = "169.254.1.1"

/** Service range, the API server's own ClusterIP and the cluster DNS. */
export const serviceCidr = "10.96.0.0/16"
export const apiServerServiceIp = "10.96.0.1"
export const dnsServiceIp = "10.96.0.10"
export const clusterDomain = "cluster.local"

/** Ports inside the cluster netns. */
export const ports = {
  apiServer: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  kubelet: 10250,
} as const

/** Kubernetes version the Go module under test/localkube/go pins. */
export const kubernetesVersion = "v1.37.2"
