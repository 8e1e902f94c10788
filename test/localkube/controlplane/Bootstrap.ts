/**
 * Objects the control plane needs that no controller creates: CoreDNS's RBAC, and the
 * kube-dns Service with a hand-made EndpointSlice pointing at CoreDNS, which runs as a
 * process on the host address (there are no nodes to run it as a Deployment). Traffic to
 * the kube-dns ClusterIP therefore goes through kube-proxy like any other Service.
 * And the control plane host's Node, which kube-proxy needs (see layout.controlPlaneNodeName).
 */
import * as Layout from "../layout.ts"
import { dnsPort } from "./Components.ts"

const dnsPorts = [
  { name: "dns", protocol: "UDP", port: dnsPort },
  { name: "dns-tcp", protocol: "TCP", port: dnsPort },
] as const

/** A v1 List for `kubectl apply --server-side -f -`. */
export const bootstrapObjects = (): object => ({
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: Layout.controlPlaneNodeName, labels: { "node-role.kubernetes.io/control-plane": "" } },
      spec: {
        unschedulable: true,
        taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "system:coredns" }],
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "kube-dns",
        namespace: "kube-system",
        labels: { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" },
      },
      spec: {
        clusterIP: Layout.dnsServiceIp,
        ports: dnsPorts.map((p) => ({ ...p, targetPort: p.port })),
      },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: "kube-dns-localkube",
        namespace: "kube-system",
        labels: {
          "kubernetes.io/service-name": "kube-dns",
          "endpointslice.kubernetes.io/managed-by": "localkube",
        },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: [Layout.hostAddress], conditions: { ready: true } }],
      ports: dnsPorts,
    },
  ],
})

/** Status patch of the control plane Node: kube-proxy takes its node IP from here. */
export const controlPlaneNodeStatus = (): object => ({
  status: { addresses: [{ type: "InternalIP", address: Layout.hostAddress }] },
})
