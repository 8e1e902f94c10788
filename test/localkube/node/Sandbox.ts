/**
 * Pod sandboxes: the holder process (Holder.ts) owning the pod's namespaces, and the
 * pod's network: a veth whose host end stays in the cluster netns (where the node agent
 * runs) with a /32 route to the pod and the gateway address 169.254.1.1, and whose pod
 * end is eth0 with the pod IP and a default route via that gateway.
 *
 * The namespaces live exactly as long as the holder: killing it (PID 1 of the pod's PID
 * namespace) kills every process of the pod, and the kernel then frees the network and
 * mount namespaces with the veth and every mount. No named netns, no host mount.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Data, Effect, Schema } from "effect"
import * as Layout from "../layout.ts"
import { holderScript, type HolderPlan } from "./Holder.ts"

export class SandboxError extends Data.TaggedError("SandboxError")<{ readonly message: string }> {}

/** Files of one pod sandbox under the node's state directory. */
export const sandboxFiles = (podDir: string) => ({
  script: join(podDir, "holder.sh"),
  log: join(podDir, "holder.log"),
  ready: join(podDir, "ready"),
  root: join(podDir, "root"),
  info: join(podDir, "sandbox.json"),
})

/** Name of the host end of a pod's veth (unique per pod IP; at most 15 characters). */
export const hostVeth = (ip: string): string => {
  const [, , c, d] = ip.split(".")
  return `lkp${c}x${d}`
}

export interface SandboxInfo {
  readonly holderPid: number
  readonly ip: string
  readonly hostVeth: string
}

const sh = (argv: ReadonlyArray<string>, what: string) =>
  Effect.tryPromise({
    try: async () => {
      const p = Bun.spawn([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited])
      if (code !== 0) throw new Error(`${argv.join(" ")}: ${err.trim()}`)
    },
    catch: (e) => new SandboxError({ message: `${what}: ${String(e instanceof Error ? e.message : e)}` }),
  })

const readCmdline = (pid: string): Array<string> => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
  } catch {
    return []
  }
}

/** Holders running under a node directory: pod directory -> holder PID (the pod's PID 1). */
export const findHolders = (nodeDir: string): Map<string, number> => {
  const found = new Map<string, number>()
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue
    const argv = readCmdline(pid)
    const script = argv[1]
    if (argv[0] === "bash" && script !== undefined && script.startsWith(`${nodeDir}/`) && script.endsWith("/holder.sh")) {
      found.set(script.slice(0, -"/holder.sh".length), Number(pid))
    }
  }
  return found
}

export const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/** Command prefix that runs a program inside the pod's namespaces and root. */
export const enterPod = (holderPid: number): Array<string> => [
  "nsenter", "-t", String(holderPid), "-m", "-n", "-p", "-u", "-i", "-r", "--",
]

/** Starts the holder, waits for its mounts, then wires the pod's network. */
export const create = Effect.fn("Sandbox.create")(function* (
  podDir: string,
  plan: Omit<HolderPlan, "rootDir" | "readyFile">,
  ip: string,
  /** Source address the cluster netns uses toward the pod (the node's InternalIP), never the gateway. */
  routeSource: string,
  /** Prefix that runs a command in the cluster netns; empty when already there. */
  inCluster: ReadonlyArray<string> = [],
) {
  const f = sandboxFiles(podDir)
  rmSync(f.ready, { force: true })
  Bun.spawnSync(["mkdir", "-p", f.root])
  writeFileSync(f.script, holderScript({ ...plan, rootDir: f.root, readyFile: f.ready }))
  yield* sh(
    ["bash", "-c", `setsid -f unshare --mount --net --pid --uts --ipc --fork --propagation private bash "$0" </dev/null >>"$1" 2>&1`, f.script, f.log],
    "start holder",
  )
  const deadline = Date.now() + 15_000
  let holder: number | undefined
  while (Date.now() < deadline) {
    holder = findHolders(join(podDir, "..")).get(podDir)
    if (existsSync(f.ready) && holder !== undefined) break
    yield* Effect.sleep("20 millis")
  }
  if (holder === undefined || !existsSync(f.ready)) {
    const log = existsSync(f.log) ? readFileSync(f.log, "utf8").slice(-2000) : ""
    yield* destroy(podDir)
    return yield* new SandboxError({ message: `pod sandbox did not start: ${log}` })
  }
  const veth = hostVeth(ip)
  const pid = String(holder)
  yield* Effect.gen(function* () {
    yield* sh([...inCluster, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pid], "create veth")
    yield* sh([...inCluster, "ip", "link", "set", veth, "up"], "veth up")
    yield* sh([...inCluster, "ip", "addr", "add", `${Layout.podGateway}/32`, "dev", veth, "scope", "link"], "gateway address")
    yield* sh([...inCluster, "sysctl", "-qw", `net.ipv4.conf.${veth}.proxy_arp=1`], "proxy arp")
    yield* sh([...inCluster, "ip", "route", "replace", `${ip}/32`, "dev", veth, "src", routeSource], "pod route")
    yield* sh(
      [
        "nsenter", "-t", pid, "-n", "sh", "-c",
        `ip link set lo up && ip addr add ${ip}/32 dev eth0 && ip link set eth0 up && ` +
          `ip route add ${Layout.podGateway} dev eth0 scope link && ip route add default via ${Layout.podGateway} dev eth0`,
      ],
      "pod interface",
    )
  }).pipe(Effect.tapError(() => destroy(podDir)))
  const info: SandboxInfo = { holderPid: holder, ip, hostVeth: veth }
  writeFileSync(f.info, JSON.stringify(info))
  return info
})

/**
 * Kills the pod's holder (and with it every process of the pod) and waits until it is
 * gone. The holder is looked up by its pod directory, never by a remembered PID, which
 * the kernel may have given to another process since.
 */
export const destroy = Effect.fn("Sandbox.destroy")(function* (podDir: string) {
  const holderPid = findHolders(join(podDir, "..")).get(podDir)
  if (holderPid === undefined) return
  try {
    process.kill(holderPid, "SIGKILL")
  } catch {
    return
  }
  const deadline = Date.now() + 10_000
  while (isRunning(holderPid) && Date.now() < deadline) yield* Effect.sleep("20 millis")
})

const SandboxInfoJson = Schema.parseJson(Schema.Struct({ holderPid: Schema.Number, ip: Schema.String, hostVeth: Schema.String }))

/** Reads what `create` recorded for a pod directory, if anything. */
export const readInfo = (podDir: string): SandboxInfo | undefined => {
  try {
    return Schema.decodeUnknownSync(SandboxInfoJson)(readFileSync(sandboxFiles(podDir).info, "utf8"))
  } catch {
    return undefined
  }
}

/**
 * Kills every pod sandbox under a cluster's state directory and waits for them to go:
 * the last line of defence of `localkube down` after the node agents are stopped.
 */
export const destroyAllSync = (stateDir: string): void => {
  const holders = [...findHolders(join(stateDir, "nodes")).values()]
  for (const pid of holders) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000
  while (holders.some(isRunning) && Date.now() < deadline) Bun.sleepSync(20)
}
