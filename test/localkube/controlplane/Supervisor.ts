/**
 * Long-running processes that outlive the command which started them: each is spawned
 * in its own session (setsid, so it is its own process group) inside the cluster network
 * namespace, with output appended to its log file. Its PID and kernel start time go to a
 * PID file; the start time guards against a recycled PID. Stopping is by PID only:
 * SIGTERM to the process group, then SIGKILL after a grace period.
 *
 * Stopping is synchronous on purpose, so the same code also runs in a process "exit" handler.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { basename } from "node:path"
import { Effect } from "effect"
import { inNetns } from "./Network.ts"

export interface PidRecord {
  readonly pid: number
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
  readonly startTime: string
}

/** Parses /proc/<pid>/stat content; the command name may contain spaces and parens. */
export const parseStat = (
  stat: string,
): { readonly state: string; readonly ppid: number; readonly startTime: string } | undefined => {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const state = fields[0]
  const ppid = Number(fields[1])
  const startTime = fields[19]
  return state === undefined || startTime === undefined || !Number.isInteger(ppid) ? undefined : { state, ppid, startTime }
}

const readStat = (pid: number) => {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return undefined
  }
}

export const parsePidRecord = (text: string): PidRecord | undefined => {
  const [pid, startTime] = text.trim().split(" ")
  const n = Number(pid)
  return Number.isInteger(n) && n > 0 && startTime !== undefined && startTime !== "" ? { pid: n, startTime } : undefined
}

/**
 * Whether the recorded process is still the one we started and still running. A zombie
 * counts as gone: when this process spawned it, it is reaped only once the event loop runs.
 */
export const isAlive = (rec: PidRecord): boolean => {
  const stat = readStat(rec.pid)
  return stat !== undefined && stat.startTime === rec.startTime && stat.state !== "Z" && stat.state !== "X"
}

export const readPidFile = (path: string): PidRecord | undefined => {
  try {
    return parsePidRecord(readFileSync(path, "utf8"))
  } catch {
    return undefined
  }
}

export interface SpawnSpec {
  readonly cluster: string
  readonly argv: ReadonlyArray<string>
  readonly logFile: string
  readonly pidFile: string
  readonly env: Record<string, string | undefined>
}

/** Starts a detached process in the cluster netns and records its PID. */
export const spawnDetached = Effect.fn("Supervisor.spawnDetached")(function* (spec: SpawnSpec) {
  return yield* Effect.try({
    try: () => {
      const fd = openSync(spec.logFile, "a")
      try {
        // setsid execs in place (the child of spawn is no group leader), and so does nsenter,
        // so the spawned PID is the component's own.
        const proc = Bun.spawn(["setsid", ...inNetns(spec.cluster, spec.argv)], {
          stdin: "ignore",
          stdout: fd,
          stderr: fd,
          env: spec.env,
        })
        proc.unref()
        return proc.pid
      } finally {
        closeSync(fd)
      }
    },
    catch: (e) => new Error(`spawn ${spec.argv[0]}: ${String(e)}`),
  }).pipe(
    Effect.flatMap((pid) =>
      // The start time is readable once the kernel has the process; retry briefly.
      Effect.suspend(() => {
        const stat = readStat(pid)
        return stat === undefined ? Effect.fail("pending" as const) : Effect.succeed({ pid, startTime: stat.startTime })
      }).pipe(
        Effect.retry({ times: 20 }),
        Effect.mapError(() => new Error(`${spec.argv[0]} exited immediately; see ${spec.logFile}`)),
      ),
    ),
    Effect.tap((rec) => Effect.sync(() => writeFileSync(spec.pidFile, `${rec.pid} ${rec.startTime}\n`))),
    Effect.orDie,
  )
})

const signalGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

/** Sends SIGTERM to each process (group), waits up to graceMs, then SIGKILLs what is left. */
export const stopPidsSync = (records: ReadonlyArray<PidRecord>, graceMs: number): void => {
  const live = records.filter(isAlive)
  for (const r of live) {
    signalGroup(r.pid, "SIGTERM")
    // A stopped (frozen) process handles SIGTERM only once continued.
    signalGroup(r.pid, "SIGCONT")
  }
  const deadline = Date.now() + graceMs
  while (live.some(isAlive) && Date.now() < deadline) Bun.sleepSync(50)
  for (const r of live.filter(isAlive)) signalGroup(r.pid, "SIGKILL")
  const killDeadline = Date.now() + 2000
  while (live.some(isAlive) && Date.now() < killDeadline) Bun.sleepSync(20)
}

/** PID records of every PID file in a directory. */
export const readPidDir = (dir: string): Array<{ readonly name: string; readonly record: PidRecord }> => {
  let files: Array<string>
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".pid"))
  } catch {
    return []
  }
  return files.flatMap((f) => {
    const record = readPidFile(`${dir}/${f}`)
    return record === undefined ? [] : [{ name: basename(f, ".pid"), record }]
  })
}

/**
 * Stops every process recorded in a PID directory, tier by tier (processes of one tier
 * together), and removes the files. Names in no tier are stopped first.
 */
export const stopPidDirSync = (dir: string, tiers: ReadonlyArray<ReadonlyArray<string>>, graceMs: number): void => {
  const entries = readPidDir(dir)
  const known = new Set(tiers.flat())
  const batches = [entries.filter((e) => !known.has(e.name)), ...tiers.map((t) => entries.filter((e) => t.includes(e.name)))]
  for (const batch of batches) stopPidsSync(batch.map((e) => e.record), graceMs)
  for (const e of entries) rmSync(`${dir}/${e.name}.pid`, { force: true })
}

/** The current process and its ancestors: never to be signalled by our own cleanup. */
export const ancestors = (): Set<number> => {
  const seen = new Set<number>()
  let pid = process.pid
  while (pid > 1 && !seen.has(pid)) {
    seen.add(pid)
    pid = readStat(pid)?.ppid ?? 1
  }
  return seen
}

/** Records for arbitrary live PIDs (e.g. strays found in the netns). */
export const recordsOf = (pids: ReadonlyArray<number>): Array<PidRecord> =>
  pids.flatMap((pid) => {
    const stat = readStat(pid)
    return stat === undefined ? [] : [{ pid, startTime: stat.startTime }]
  })

export const ensureDirSync = (dir: string): void => {
  mkdirSync(dir, { recursive: true })
}
