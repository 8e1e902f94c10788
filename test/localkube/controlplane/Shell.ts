/**
 * Running short-lived commands (openssl, ip, nsenter, kubectl) as Effects.
 */
import { Data, Effect } from "effect"

/** A command exited non-zero or could not be started. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly argv: ReadonlyArray<string>
  readonly exitCode: number | null
  readonly stderr: string
}> {
  override get message(): string {
    return `${this.argv.join(" ")} exited ${this.exitCode ?? "abnormally"}: ${this.stderr.trim()}`
  }
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
  readonly stdin?: string
}

export interface RunResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion and returns its output whatever the exit code. */
export const exec = (argv: ReadonlyArray<string>, options: RunOptions = {}): Effect.Effect<RunResult, CommandFailed> =>
  Effect.tryPromise({
    try: async (signal) => {
      const proc = Bun.spawn([...argv], {
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: options.env }),
        stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
        stdout: "pipe",
        stderr: "pipe",
        signal,
      })
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ])
      return { exitCode, stdout, stderr }
    },
    catch: (error) => new CommandFailed({ argv, exitCode: null, stderr: String(error) }),
  })

/** Runs a command and fails unless it exits 0; returns stdout. */
export const run = (argv: ReadonlyArray<string>, options: RunOptions = {}): Effect.Effect<string, CommandFailed> =>
  Effect.flatMap(exec(argv, options), (r) =>
    r.exitCode === 0
      ? Effect.succeed(r.stdout)
      : Effect.fail(new CommandFailed({ argv, exitCode: r.exitCode, stderr: r.stderr || r.stdout })),
  )
