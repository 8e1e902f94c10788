/**
 * `kubectl tusk`: the same binary invoked as `kubectl-tusk`. Its commands work against
 * any cluster a kubeconfig reaches. Exit codes: 0 done, 1 failed (the message says what
 * to do), 2 the command line was wrong; `psql` passes on psql's own code.
 */
import { Command, ValidationError } from "@effect/cli"
import { Console, Effect } from "effect"
import { versionLine } from "../Version.ts"
import { fencing } from "./Fencing.ts"
import { promote } from "./Promote.ts"
import { psql } from "./Psql.ts"
import { report } from "./Report.ts"
import { reload, restart } from "./Restart.ts"
import { status } from "./status/command.ts"

const version = Command.make("version", {}, () => Console.log(versionLine)).pipe(
  Command.withDescription("Print the plugin's version."),
)

/** The root of the kubectl plugin. */
export const pluginCommand = Command.make("kubectl-tusk").pipe(
  Command.withDescription("Manage Tusk PostgreSQL clusters from kubectl."),
  Command.withSubcommands([status, promote, restart, reload, fencing, psql, report, version]),
)

/** Exit codes scripts can rely on. */
export const exitCodes = { ok: 0, error: 1, usage: 2 } as const

const setExit = (code: number) => Effect.sync(() => void (process.exitCode = code))

/** Run the plugin on argv: errors are printed once, as `error: ...` with a hint, and set the exit code. */
export const runPlugin = <R>(run: (argv: ReadonlyArray<string>) => Effect.Effect<void, unknown, R>) => (argv: ReadonlyArray<string>) =>
  run(argv).pipe(
    Effect.catchAll((e) => {
      // @effect/cli has already printed what was wrong with the command line.
      if (ValidationError.isValidationError(e)) return setExit(exitCodes.usage)
      if (typeof e === "object" && e !== null && "_tag" in e) {
        if (e._tag === "ChildExited") return setExit((e as unknown as { code: number }).code)
        if (e._tag === "PluginError") {
          const { message, hint } = e as unknown as { message: string; hint?: string }
          return Console.error(`error: ${message}${hint === undefined ? "" : `\nhint: ${hint}`}`).pipe(Effect.zipRight(setExit(exitCodes.error)))
        }
      }
      return Console.error(`error: ${e instanceof Error ? e.message : String(e)}`).pipe(Effect.zipRight(setExit(exitCodes.error)))
    }),
  )
