/**
 * One container process: started inside the pod's namespaces and root with its user,
 * groups, environment and working directory; its stdout and stderr go to a log file in
 * the CRI format the kubelet uses ("<RFC3339Nano> <stream> F <line>"), one file per
 * container start, so `--previous` reads the one before.
 */
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { enterPod } from "./Sandbox.ts"

export interface ContainerLaunch {
  readonly holderPid: number
  readonly argv: ReadonlyArray<string>
  readonly env: ReadonlyArray<readonly [string, string]>
  readonly workingDir: string
  readonly uid: number
  readonly gid: number
  readonly groups: ReadonlyArray<number>
  readonly logFile: string
}

export interface Exit {
  readonly exitCode: number
  /** Set when the process was killed by a signal. */
  readonly signal: string | null
}

export interface RunningContainer {
  /** Host PID of the container's main process; also its process group. */
  readonly pid: number
  readonly exited: Promise<Exit>
}

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 }

/** The argv that runs the container: enter the pod, own session, drop privileges, clean env. */
export const launchArgv = (l: ContainerLaunch): Array<string> => [
  ...enterPod(l.holderPid),
  "setsid",
  ...(l.uid === 0 && l.gid === 0 && l.groups.length === 0
    ? []
    : [
        "setpriv",
        `--reuid=${l.uid}`,
        `--regid=${l.gid}`,
        ...(l.groups.length === 0 ? ["--clear-groups"] : [`--groups=${l.groups.join(",")}`]),
        "--",
      ]),
  "env",
  "-i",
  "-C",
  l.workingDir,
  ...l.env.map(([k, v]) => `${k}=${v}`),
  ...l.argv,
]

/** Copies a stream to the log file line by line, prefixed the CRI way. */
const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr", write: (s: string) => void) => {
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf("\n")
    while (nl >= 0) {
      write(`${new Date().toISOString()} ${name} F ${buffer.slice(0, nl)}\n`)
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf("\n")
    }
  }
  if (buffer !== "") write(`${new Date().toISOString()} ${name} F ${buffer}\n`)
}

const childOf = (pid: number): number | undefined => {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0]
    return first === undefined || first === "" ? undefined : Number(first)
  } catch {
    return undefined
  }
}

/** Starts the container; fails only if the process cannot be spawned. */
export const start = Effect.fn("Container.start")(function* (l: ContainerLaunch) {
  const writer = Bun.file(l.logFile).writer()
  const proc = Bun.spawn(launchArgv(l), { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: {} })
  const write = (s: string) => {
    writer.write(s)
    writer.flush()
  }
  const pumped = Promise.all([pump(proc.stdout, "stdout", write), pump(proc.stderr, "stderr", write)])
  // nsenter forks into the PID namespace: the container is its child.
  let pid: number | undefined
  for (let i = 0; i < 200 && pid === undefined && proc.exitCode === null; i++) {
    pid = childOf(proc.pid)
    if (pid === undefined) yield* Effect.sleep("5 millis")
  }
  const exited = (async (): Promise<Exit> => {
    await proc.exited
    await pumped.catch(() => undefined)
    await writer.end()
    const signal = proc.signalCode === null ? null : String(proc.signalCode)
    return { exitCode: signal === null ? (proc.exitCode ?? 255) : 128 + (signals[signal] ?? 0), signal }
  })()
  return { pid: pid ?? proc.pid, exited } satisfies RunningContainer
})

/** Signals every process of the container (its process group). */
export const signal = (c: RunningContainer, sig: NodeJS.Signals): void => {
  try {
    process.kill(-c.pid, sig)
  } catch {
    try {
      process.kill(c.pid, sig)
    } catch {
      // already gone
    }
  }
}
