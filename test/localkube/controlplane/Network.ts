/**
 * The cluster network namespace: created empty by `ip netns add`, so it has no link to
 * the machine's network. Inside: loopback, the `lkhost` interface carrying the host and
 * node addresses, IP forwarding for pod traffic, IPv6 off, and an unreachable default
 * route so nothing outside the cluster's own ranges is ever routable.
 *
 * `lkhost` is an ifb device: like a dummy interface it only holds addresses (these
 * kernels have no dummy driver), and it has no peer anywhere.
 */
import { existsSync, statSync } from "node:fs"
import { Effect } from "effect"
import * as Layout from "../layout.ts"
import { run } from "./Shell.ts"

/** Default number of node addresses put on lkhost at creation. */
export const defaultNodeCount = 3

/** Path of the netns bind mount that `ip netns add` creates. */
export const netnsPath = (cluster: string): string => `/run/netns/${Layout.clusterNetns(cluster)}`

/** Command prefix that runs argv inside the cluster network namespace (no new mount namespace). */
export const inNetns = (cluster: string, argv: ReadonlyArray<string>): Array<string> => [
  "nsenter",
  `--net=${netnsPath(cluster)}`,
  "--",
  ...argv,
]

/** `ip -batch` lines that configure a fresh namespace. */
export const setupCommands = (nodeCount: number): Array<string> => [
  "link set lo up",
  `link add ${Layout.hostInterface} type ifb`,
  `addr add ${Layout.hostAddress}/${Layout.hostPrefix} dev ${Layout.hostInterface}`,
  ...Array.from({ length: nodeCount }, (_, i) => nodeAddressCommand(i + 1)),
  `link set ${Layout.hostInterface} up`,
  // Locally sent packets to a ClusterIP need a route before kube-proxy's DNAT runs;
  // anything not translated is swallowed by lkhost.
  `route add ${Layout.serviceCidr} dev ${Layout.hostInterface}`,
  "route add unreachable default",
]

const nodeAddressCommand = (n: number) =>
  `addr replace ${Layout.nodeAddress(n)}/32 dev ${Layout.hostInterface}`

export const sysctls = [
  "net.ipv4.ip_forward=1",
  "net.ipv6.conf.all.disable_ipv6=1",
  "net.ipv6.conf.default.disable_ipv6=1",
] as const

/** True when the cluster's network namespace exists. */
export const netnsExists = (cluster: string): boolean => existsSync(netnsPath(cluster))

/** True when this process already runs inside the cluster's network namespace. */
export const insideNetns = (cluster: string): boolean => {
  if (!netnsExists(cluster)) return false
  try {
    return statSync("/proc/self/ns/net").ino === statSync(netnsPath(cluster)).ino
  } catch {
    return false
  }
}

/** Creates and configures the namespace unless it exists. Returns whether it was created. */
export const ensureNetns = Effect.fn("Network.ensureNetns")(function* (cluster: string, nodeCount = defaultNodeCount) {
  if (netnsExists(cluster)) return false
  const ns = Layout.clusterNetns(cluster)
  yield* run(["ip", "netns", "add", ns])
  yield* run(["ip", "-n", ns, "-batch", "-"], { stdin: setupCommands(nodeCount).join("\n") + "\n" }).pipe(
    Effect.zipRight(run(inNetns(cluster, ["sysctl", "-q", "-w", ...sysctls]))),
    Effect.tapError(() => run(["ip", "netns", "del", ns]).pipe(Effect.ignore)),
  )
  return true
})

/** Puts node N's InternalIP on lkhost (idempotent), for node agents beyond the default count. */
export const addNodeAddress = Effect.fn("Network.addNodeAddress")(function* (cluster: string, n: number) {
  yield* run(["ip", "-n", Layout.clusterNetns(cluster), ...nodeAddressCommand(n).split(" ")])
})

/** PIDs of processes whose network namespace is the cluster's. */
export const netnsPids = (cluster: string): Array<number> => {
  if (!netnsExists(cluster)) return []
  const r = Bun.spawnSync(["ip", "netns", "pids", Layout.clusterNetns(cluster)])
  return r.stdout
    .toString()
    .split(/\s+/)
    .filter((s) => s !== "")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n !== process.pid)
}

/** Deletes the namespace (and its bind mount) if it exists. Synchronous, so it also runs at process exit. */
export const deleteNetnsSync = (cluster: string): void => {
  if (!netnsExists(cluster)) return
  const r = Bun.spawnSync(["ip", "netns", "del", Layout.clusterNetns(cluster)])
  if (r.exitCode !== 0) throw new Error(`ip netns del failed: ${r.stderr.toString()}`)
}
