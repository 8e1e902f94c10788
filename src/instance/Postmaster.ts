/** The `postgres` server process: start it, watch it, stop it in steps. */
import { Data, Duration, Effect } from "effect"
import { postmasterPidStatus } from "./Pgdata.ts"
import * as PostgresLog from "./PostgresLog.ts"

export class PostmasterFailed extends Data.TaggedError("PostmasterFailed")<{ readonly message: string }> {}

/** A postmaster this process started. */
export interface Postmaster {
  readonly pid: number
  readonly exitCode: () => number | null
  readonly exited: Effect.Effect<number>
  readonly signal: (signal: NodeJS.Signals) => void
}

export interface StartOptions {
  readonly binDir: string
  readonly pgdata: string
  readonly instance: string
  /** Extra `-c name=value` settings for this run only (e.g. no TCP during initdb). */
  readonly overrides?: Readonly<Record<string, string>>
}

/** Spawn `postgres`; its stderr and stdout become JSON log lines on stdout. */
export const start = Effect.fn("Postmaster.start")(function*(options: StartOptions) {
  const args = Object.entries(options.overrides ?? {}).flatMap(([k, v]) => ["-c", `${k}=${v}`])
  const child = yield* Effect.try({
    try: () =>
      Bun.spawn([`${options.binDir}/postgres`, "-D", options.pgdata, ...args], {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, PGDATA: options.pgdata }
      }),
    catch: (e) => new PostmasterFailed({ message: `cannot start postgres: ${e instanceof Error ? e.message : String(e)}` })
  })
  void PostgresLog.forward(child.stderr, options.instance)
  void PostgresLog.forward(child.stdout, options.instance)
  yield* Effect.logInfo("postmaster started").pipe(Effect.annotateLogs({ pid: child.pid }))
  const postmaster: Postmaster = {
    pid: child.pid,
    exitCode: () => child.exitCode ?? (child.signalCode !== null ? 128 : null),
    exited: Effect.promise(() => child.exited),
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
  }
  return postmaster
})

/** Wait until the postmaster accepts connections ("ready" as primary, "standby" for hot standby reads). */
export const awaitReady = Effect.fn("Postmaster.awaitReady")(function*(pm: Postmaster, pgdata: string, timeout: Duration.DurationInput) {
  const deadline = Date.now() + Duration.toMillis(timeout)
  while (Date.now() < deadline) {
    const code = pm.exitCode()
    if (code !== null) return yield* new PostmasterFailed({ message: `postgres exited with ${code} while starting` })
    const status = yield* postmasterPidStatus(pgdata)
    if (status === "ready" || status === "standby") return status
    yield* Effect.sleep("50 millis")
  }
  return yield* new PostmasterFailed({ message: "postgres did not become ready in time" })
})

/** One step of a shutdown: a signal and how long to wait for the exit after it. */
export interface StopStep {
  readonly signal: NodeJS.Signals
  readonly wait: Duration.DurationInput
}

/** PostgreSQL's shutdown modes by signal. */
export const smart = "SIGTERM" as const
export const fast = "SIGINT" as const
export const immediate = "SIGQUIT" as const

/** Send each step's signal in turn until the postmaster exits; SIGKILL as the last resort. Returns the mode that worked. */
export const stop = Effect.fn("Postmaster.stop")(function*(pm: Postmaster, steps: ReadonlyArray<StopStep>) {
  const lastResort: StopStep = { signal: "SIGKILL", wait: "10 seconds" }
  for (const step of [...steps, lastResort]) {
    if (pm.exitCode() !== null) break
    pm.signal(step.signal)
    const exited = yield* pm.exited.pipe(Effect.timeout(step.wait), Effect.option)
    if (exited._tag === "Some") {
      yield* Effect.logInfo("postmaster stopped").pipe(Effect.annotateLogs({ signal: step.signal, exitCode: exited.value }))
      return step.signal
    }
  }
  return "exited" as const
})
