/**
 * Starting, stopping and breaking node agents from outside (the CLI and e2e tests).
 * Each agent is a detached process in the cluster netns with its PID file beside the
 * control plane's, so `localkube down` stops agents (and with them their pods) too.
 *
 *   stop "freeze": SIGSTOP the agent and every process of its pods (a hung machine);
 *                  `resume` sends SIGCONT.
 *   stop "kill":   SIGKILL the agent and every pod sandbox (a machine losing power);
 *                  `start` brings a fresh agent, which recreates the pods still bound.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Schedule } from "effect"
import * as Layout from "../layout.ts"
import { LocalKubeError, type LocalKubeService } from "../controlplane/LocalKube.ts"
import * as Supervisor from "../controlplane/Supervisor.ts"
import { nodeDir } from "./Agent.ts"
import * as Sandbox from "./Sandbox.ts"

const bun = join(import.meta.dir, "..", "..", "..", "node_modules", ".bin", "bun")
const mainTs = join(import.meta.dir, "main.ts")

/** Name of node N's agent in the PID and log directories. */
export const agentName = (n: number): string => `node-agent-${n}`

export interface StartOptions {
  readonly operatorBinary?: string
  readonly backoffInitialMs?: number
  readonly backoffMaxMs?: number
}

const agentRecord = (lk: LocalKubeService, n: number) => Supervisor.readPidFile(lk.paths.pidFile(agentName(n)))

/** Whether node N's agent process is alive (frozen counts as alive). */
export const isAgentRunning = (lk: LocalKubeService, n: number): boolean => {
  const r = agentRecord(lk, n)
  return r !== undefined && Supervisor.isAlive(r)
}

/** Starts node N's agent unless it runs; returns its PID. */
export const start = Effect.fn("Nodes.start")(function* (lk: LocalKubeService, n: number, options: StartOptions = {}) {
  const existing = agentRecord(lk, n)
  if (existing !== undefined && Supervisor.isAlive(existing)) return existing.pid
  yield* lk.nodeCredentials(n)
  const argv = [
    bun, mainTs, "--state-dir", lk.paths.root, "--node", String(n),
    ...(options.operatorBinary === undefined ? [] : ["--operator-binary", options.operatorBinary]),
    ...(options.backoffInitialMs === undefined ? [] : ["--backoff-initial-ms", String(options.backoffInitialMs)]),
    ...(options.backoffMaxMs === undefined ? [] : ["--backoff-max-ms", String(options.backoffMaxMs)]),
  ]
  const rec = yield* Supervisor.spawnDetached({
    cluster: lk.config.cluster,
    argv,
    logFile: lk.paths.log(agentName(n)),
    pidFile: lk.paths.pidFile(agentName(n)),
    env: { PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
  })
  return rec.pid
})

/** PIDs of every process of node N's pods (all members of each pod's PID namespace). */
export const podProcesses = (lk: LocalKubeService, n: number): Array<number> =>
  sharingPidNamespace([...Sandbox.findHolders(nodeDir(lk.paths.root, Layout.nodeName(n))).values()])

/** PIDs of every process in the PID namespace of one of `holders`. */
const sharingPidNamespace = (holders: ReadonlyArray<number>): Array<number> => {
  const nsOf = (pid: number | string) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`)
    } catch {
      return undefined
    }
  }
  const namespaces = new Set(holders.map(nsOf).filter((x) => x !== undefined))
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => namespaces.has(nsOf(p) ?? ""))
    .map(Number)
}

/** PIDs of a process's descendants (the agent's nsenter helpers live outside the pods' PID namespaces). */
const descendants = (root: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue
    const stat = Supervisor.parseStat(readFileSyncSafe(`/proc/${p}/stat`))
    if (stat === undefined) continue
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(p)])
  }
  const out: Array<number> = []
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(root)
  return out
}

const readFileSyncSafe = (path: string): string => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return ""
  }
}

const signalAll = (pids: ReadonlyArray<number>, signal: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // gone meanwhile
    }
  }
}

/** Stops node N: "freeze" suspends it, "kill" ends it and its pods at once. */
export const stop = (lk: LocalKubeService, n: number, mode: "freeze" | "kill"): void => {
  const agent = agentRecord(lk, n)
  const signal = mode === "freeze" ? "SIGSTOP" : "SIGKILL"
  if (agent !== undefined && Supervisor.isAlive(agent)) process.kill(agent.pid, signal)
  if (mode === "freeze") {
    signalAll([...(agent === undefined ? [] : descendants(agent.pid)), ...podProcesses(lk, n)], "SIGSTOP")
    return
  }
  signalAll([...Sandbox.findHolders(nodeDir(lk.paths.root, Layout.nodeName(n))).values()], "SIGKILL")
}

/** Resumes a frozen node N. */
export const resume = (lk: LocalKubeService, n: number): void => {
  const agent = agentRecord(lk, n)
  // nsenter stops itself again when it sees its child had been stopped, and waits for
  // another SIGCONT: repeat until the whole tree has run on.
  for (let i = 0; i < 5; i++) {
    signalAll([...podProcesses(lk, n), ...(agent === undefined ? [] : descendants(agent.pid))], "SIGCONT")
    Bun.sleepSync(100)
  }
  if (agent !== undefined && Supervisor.isAlive(agent)) process.kill(agent.pid, "SIGCONT")
}

/** Stops node N's agent gracefully (SIGTERM: it stops its pods and exits). */
export const shutdown = (lk: LocalKubeService, n: number): void => {
  const agent = agentRecord(lk, n)
  if (agent !== undefined) Supervisor.stopPidsSync([agent], 15_000)
}

/** Restarts only the agent process: the new agent cleans up what the old one left and restarts the pods. */
export const restartAgent = Effect.fn("Nodes.restartAgent")(function* (lk: LocalKubeService, n: number, options: StartOptions = {}) {
  const agent = agentRecord(lk, n)
  if (agent !== undefined && Supervisor.isAlive(agent)) {
    process.kill(agent.pid, "SIGKILL")
    while (Supervisor.isAlive(agent)) yield* Effect.sleep("20 millis")
  }
  return yield* start(lk, n, options)
})

/** The pod directory of a pod on node N (newest if several). */
const findPodDir = (lk: LocalKubeService, n: number, namespace: string, pod: string): string | undefined => {
  const pods = join(nodeDir(lk.paths.root, Layout.nodeName(n)), "pods")
  try {
    return readdirSync(pods)
      .filter((d) => d.startsWith(`${namespace}_${pod}_`))
      .map((d) => join(pods, d))
      .at(-1)
  } catch {
    return undefined
  }
}

/** Fault: SIGKILL every process of one container of a pod on node N. Returns whether one was found. */
export const crashContainer = (lk: LocalKubeService, n: number, namespace: string, pod: string, container: string): boolean => {
  const dir = findPodDir(lk, n, namespace, pod)
  if (dir === undefined) return false
  const holder = Sandbox.findHolders(join(dir, "..")).get(dir)
  try {
    const pid = Number(readFileSync(join(dir, "logs", container, "pid"), "utf8"))
    // Only a process of this pod: the recorded PID may belong to someone else by now.
    if (holder === undefined || readlinkSync(`/proc/${pid}/ns/pid`) !== readlinkSync(`/proc/${holder}/ns/pid`) || !Sandbox.isRunning(pid)) return false
    process.kill(-pid, "SIGKILL")
    return true
  } catch {
    return false
  }
}

/** Fault: cut one pod off the network (its host-side veth down), or heal it. */
export const partitionPod = Effect.fn("Nodes.partitionPod")(function* (
  lk: LocalKubeService,
  n: number,
  namespace: string,
  pod: string,
  cut: boolean,
) {
  const dir = findPodDir(lk, n, namespace, pod)
  const info = dir === undefined ? undefined : Sandbox.readInfo(dir)
  if (info === undefined) return false
  const ns = Layout.clusterNetns(lk.config.cluster)
  const ip = (args: Array<string>) => Bun.spawnSync(["ip", "-n", ns, ...args]).exitCode === 0
  if (cut) ip(["link", "set", info.hostVeth, "down"])
  else {
    ip(["link", "set", info.hostVeth, "up"])
    ip(["route", "replace", `${info.ip}/32`, "dev", info.hostVeth, "src", Layout.nodeAddress(n)])
  }
  writeFileSync(join(dir ?? "", "partitioned"), cut ? "1" : "0")
  return true
})

/** Where a pod runs: its node index and sandbox, found from the node directories. */
export const locatePod = (lk: LocalKubeService, namespace: string, pod: string): { readonly node: number; readonly holderPid: number; readonly ip: string } | undefined => {
  const nodes = join(lk.paths.root, "nodes")
  let names: Array<string>
  try {
    names = readdirSync(nodes)
  } catch {
    return undefined
  }
  for (const name of names) {
    const n = Number(name.slice(name.lastIndexOf("-") + 1))
    const dir = findPodDir(lk, n, namespace, pod)
    const info = dir === undefined ? undefined : Sandbox.readInfo(dir)
    if (info !== undefined && Sandbox.isRunning(info.holderPid)) return { node: n, holderPid: info.holderPid, ip: info.ip }
  }
  return undefined
}

/**
 * Fault: SIGSTOP every process of a running pod at once (a hung process, without the
 * latency of the API server); SIGKILL still ends them, so deleting the pod clears it.
 * Returns whether the pod was found.
 */
export const freezePod = (lk: LocalKubeService, namespace: string, pod: string): boolean => {
  const where = locatePod(lk, namespace, pod)
  if (where === undefined) return false
  signalAll(sharingPidNamespace([where.holderPid]), "SIGSTOP")
  return true
}

/**
 * Runs a command inside a running pod (its namespaces and root, as uid/gid), the way
 * `kubectl exec` would; returns the exit code and output.
 */
export const execInPod = Effect.fn("Nodes.execInPod")(function* (
  lk: LocalKubeService,
  namespace: string,
  pod: string,
  argv: ReadonlyArray<string>,
  user: { readonly uid: number; readonly gid: number } = { uid: 0, gid: 0 },
  stdin?: string,
) {
  const where = locatePod(lk, namespace, pod)
  if (where === undefined) return { exitCode: -1, stdout: "", stderr: `pod ${namespace}/${pod} is not running here` }
  return yield* Effect.promise(async () => {
    const p = Bun.spawn(
      [...Sandbox.enterPod(where.holderPid), "setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...argv],
      { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" },
    )
    const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    return { exitCode, stdout, stderr }
  })
})

/**
 * Starts agents 1..count (those not running) and waits until their Nodes are Ready;
 * returns the indexes it started, for the caller to `shutdown` afterwards.
 */
export const ensureNodes = Effect.fn("Nodes.ensureNodes")(function* (lk: LocalKubeService, count: number, options: StartOptions = {}) {
  const started: Array<number> = []
  for (let n = 1; n <= count; n++) {
    if (!isAgentRunning(lk, n)) started.push(n)
    yield* start(lk, n, options)
  }
  const names = Array.from({ length: count }, (_, i) => Layout.nodeName(i + 1))
  const readyNodes = lk
    .kubectl(["get", "nodes", ...names, "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Ready')].status}{' '}{end}"])
    .pipe(Effect.map((out) => out.trim().split(" ").filter((s) => s === "True").length))
  yield* readyNodes.pipe(
    Effect.filterOrFail((n) => n === count, () => "not ready" as const),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("60 seconds"))),
    Effect.mapError(() => new LocalKubeError({ message: `nodes ${names.join(", ")} did not become Ready` })),
  )
  return started
})
