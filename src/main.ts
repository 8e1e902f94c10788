/**
 * The one entry point of the `tusk` binary. It is the only module that reads argv and
 * the environment, and the only one that runs the Effect runtime. Invoked as
 * `kubectl-tusk` (a symlink or copy) it is the kubectl plugin.
 */
import { Command } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Console, Effect } from "effect"
import { basename } from "node:path"
import * as ControllerCommand from "./controller/command.ts"
import * as Reconciler from "./controller/Reconciler.ts"
import { bootstrapCommand, instanceCommand } from "./instance/command.ts"
import { pluginCommand, runPlugin } from "./plugin/command.ts"
import { buildInfo, versionLine } from "./Version.ts"

const version = Command.make("version", {}, () => Console.log(versionLine)).pipe(
  Command.withDescription("Print the version of this binary."),
)

const controller = ControllerCommand.make(Reconciler.setup)

const tusk = Command.make("tusk").pipe(
  Command.withDescription("Tusk: a Kubernetes operator for highly available PostgreSQL."),
  Command.withSubcommands([version, controller, instanceCommand, bootstrapCommand]),
)

const invokedAs = basename(process.argv0 === "bun" ? (process.argv[1] ?? "") : process.argv0)
const asPlugin = invokedAs === "kubectl-tusk"

const program: Effect.Effect<void, unknown, BunContext.BunContext> = asPlugin
  ? runPlugin(Command.run(pluginCommand, { name: "kubectl tusk", version: buildInfo.version }))(process.argv)
  : Command.run(tusk, { name: "tusk", version: buildInfo.version })(process.argv)

program.pipe(Effect.provide(BunContext.layer), BunRuntime.runMain)
