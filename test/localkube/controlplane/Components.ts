/**
 * The control plane's processes: for each component its binary, arguments and config
 * files, decided from the state paths alone. Pure, so the flags are testable and
 * reviewable in one place.
 */
import * as Layout from "../layout.ts"
import type { StatePaths } from "./StatePaths.ts"

/** Every component, in start order. */
export const componentNames = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "coredns",
] as const

export type ComponentName = (typeof componentNames)[number]

export interface Component {
  readonly name: ComponentName
  /** Binary name in the bin directory built by go/build.sh. */
  readonly binary: string
  readonly args: ReadonlyArray<string>
  /** Files the component reads, written before it starts: path -> content. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }>
}

/** Test-friendly timings: a stopped node is NotReady after 8 s and its pods evicted 10 s later; Service changes reach kube-proxy's rules within 50 ms. */
export const timings = {
  nodeMonitorPeriod: "2s",
  nodeMonitorGracePeriod: "8s",
  notReadyTolerationSeconds: 10,
  unreachableTolerationSeconds: 10,
  // 0 would mean the default, 1 s: the batching a large cluster needs delays every Service
  // change here (a switchover's -rw move) by up to a second for nothing.
  kubeProxyMinSyncPeriod: "50ms",
} as const

/** etcd listens on the namespace's loopback only: pods (own netns) can never reach it. */
export const etcdUrl = `http://127.0.0.1:${Layout.ports.etcdClient}`

export const serviceAccountIssuer = `https://kubernetes.default.svc.${Layout.clusterDomain}`

/** Port CoreDNS serves on at the host address; the kube-dns Service points there. */
export const dnsPort = 53

const etcd = (p: StatePaths): Component => ({
  name: "etcd",
  binary: "etcd",
  args: [
    "--name=localkube",
    `--data-dir=${p.etcdData}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${Layout.ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${Layout.ports.etcdPeer}`,
    `--initial-cluster=localkube=http://127.0.0.1:${Layout.ports.etcdPeer}`,
    "--listen-metrics-urls=http://127.0.0.1:2381",
    // A test cluster: trade durability for speed, and keep the database small.
    "--unsafe-no-fsync",
    "--snapshot-count=10000",
    "--quota-backend-bytes=2147483648",
    "--log-level=warn",
  ],
  files: [],
})

const apiServer = (p: StatePaths): Component => ({
  name: "kube-apiserver",
  binary: "kube-apiserver",
  args: [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${Layout.hostAddress}`,
    `--advertise-address=${Layout.hostAddress}`,
    `--secure-port=${Layout.ports.apiServer}`,
    `--service-cluster-ip-range=${Layout.serviceCidr}`,
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
    `--default-not-ready-toleration-seconds=${timings.notReadyTolerationSeconds}`,
    `--default-unreachable-toleration-seconds=${timings.unreachableTolerationSeconds}`,
    "--allow-privileged=true",
    `--client-ca-file=${p.caCert}`,
    `--tls-cert-file=${p.cert("apiserver")}`,
    `--tls-private-key-file=${p.key("apiserver")}`,
    `--kubelet-client-certificate=${p.cert("apiserver-kubelet-client")}`,
    `--kubelet-client-key=${p.key("apiserver-kubelet-client")}`,
    `--kubelet-certificate-authority=${p.caCert}`,
    "--kubelet-preferred-address-types=InternalIP",
    `--kubelet-port=${Layout.ports.kubelet}`,
    `--requestheader-client-ca-file=${p.caCert}`,
    "--requestheader-allowed-names=front-proxy-client",
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    `--proxy-client-cert-file=${p.cert("front-proxy-client")}`,
    `--proxy-client-key-file=${p.key("front-proxy-client")}`,
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${p.saPub}`,
    `--service-account-signing-key-file=${p.saKey}`,
    "--profiling=false",
    "--v=1",
  ],
  files: [],
})

const controllerManager = (p: StatePaths): Component => ({
  name: "kube-controller-manager",
  binary: "kube-controller-manager",
  args: [
    `--kubeconfig=${p.kubeconfig("controller-manager")}`,
    `--authentication-kubeconfig=${p.kubeconfig("controller-manager")}`,
    `--authorization-kubeconfig=${p.kubeconfig("controller-manager")}`,
    `--bind-address=${Layout.hostAddress}`,
    "--controllers=*",
    "--leader-elect=false",
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${p.saKey}`,
    `--root-ca-file=${p.caCert}`,
    `--cluster-signing-cert-file=${p.caCert}`,
    `--cluster-signing-key-file=${p.caKey}`,
    `--service-cluster-ip-range=${Layout.serviceCidr}`,
    `--cluster-cidr=${Layout.podCidr}`,
    // Node agents set node.spec.podCIDR themselves (layout.nodePodCidr).
    "--allocate-node-cidrs=false",
    `--node-monitor-period=${timings.nodeMonitorPeriod}`,
    `--node-monitor-grace-period=${timings.nodeMonitorGracePeriod}`,
    // Taint (and so evict from) one not-ready node per second, not one per ten.
    "--node-eviction-rate=1",
    "--v=1",
  ],
  files: [],
})

const scheduler = (p: StatePaths): Component => ({
  name: "kube-scheduler",
  binary: "kube-scheduler",
  args: [
    `--kubeconfig=${p.kubeconfig("scheduler")}`,
    `--authentication-kubeconfig=${p.kubeconfig("scheduler")}`,
    `--authorization-kubeconfig=${p.kubeconfig("scheduler")}`,
    `--bind-address=${Layout.hostAddress}`,
    "--leader-elect=false",
    "--v=1",
  ],
  files: [],
})

/** kube-proxy config: nftables mode; conntrack sysctls are left alone (not all are writable in a netns). */
export const kubeProxyConfig = (p: StatePaths): string =>
  JSON.stringify(
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      mode: "nftables",
      clientConnection: { kubeconfig: p.kubeconfig("kube-proxy") },
      hostnameOverride: Layout.controlPlaneNodeName,
      bindAddress: Layout.hostAddress,
      healthzBindAddress: `${Layout.hostAddress}:10256`,
      metricsBindAddress: `${Layout.hostAddress}:10249`,
      clusterCIDR: Layout.podCidr,
      detectLocalMode: "ClusterCIDR",
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
      nodePortAddresses: [`${Layout.hostAddress}/32`],
      nftables: { syncPeriod: "30s", minSyncPeriod: timings.kubeProxyMinSyncPeriod },
    },
    null,
    2,
  ) + "\n"

const kubeProxy = (p: StatePaths): Component => {
  const config = `${p.config}/kube-proxy.json`
  return {
    name: "kube-proxy",
    binary: "kube-proxy",
    args: [`--config=${config}`, "--v=1"],
    files: [{ path: config, content: kubeProxyConfig(p) }],
  }
}

/** CoreDNS serves cluster.local only; there is no forwarder, so no query ever leaves. */
export const corefile = (p: StatePaths): string =>
  `.:${dnsPort} {
    bind ${Layout.hostAddress}
    errors
    health ${Layout.hostAddress}:8080
    ready ${Layout.hostAddress}:8181
    kubernetes ${Layout.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${p.kubeconfig("coredns")}
        pods insecure
        ttl 5
    }
    cache 5
    loadbalance
}
`

const coredns = (p: StatePaths): Component => {
  const config = `${p.config}/Corefile`
  return {
    name: "coredns",
    binary: "coredns",
    args: ["-conf", config],
    files: [{ path: config, content: corefile(p) }],
  }
}

/** Start order: each depends on the ones before it being up. */
export const components = (p: StatePaths): ReadonlyArray<Component> => [
  etcd(p),
  apiServer(p),
  controllerManager(p),
  scheduler(p),
  kubeProxy(p),
  coredns(p),
]
