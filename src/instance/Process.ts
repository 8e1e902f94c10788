/** Running PostgreSQL's tools (initdb, pg_basebackup, pg_rewind, pg_controldata) to completion. */
import { Data, Effect } from "effect"

export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly command: string
  readonly exitCode: number
  /** The end of its stderr, which PostgreSQL's tools use for diagnostics (never secrets). */
  readonly stderr: string
}> {
  override get message() {
    return `${this.command} exited with ${this.exitCode}: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`
  }
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>
  readonly stdin?: string
}

/** Run `argv` and collect its output; fails with CommandFailed on a non-zero exit. */
export const run = Effect.fn("Process.run")(function*(argv: ReadonlyArray<string>, options: RunOptions = {}) {
  const command = argv[0] ?? ""
  const result = yield* Effect.tryPromise({
    try: async (signal) => {
      const child = Bun.spawn([...argv], {
        env: { ...process.env, ...options.env },
        stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
        stdout: "pipe",
        stderr: "pipe",
        signal
      })
      const [stdout, stderr, exitCode] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited
      ])
      return { stdout, stderr, exitCode }
    },
    catch: (e) => new CommandFailed({ command, exitCode: -1, stderr: e instanceof Error ? e.message : String(e) })
  })
  if (result.exitCode !== 0) {
    return yield* new CommandFailed({ command, exitCode: result.exitCode, stderr: result.stderr.slice(-4000) })
  }
  return result
})
