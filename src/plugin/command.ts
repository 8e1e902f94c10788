/**
 * `kubectl tusk`: the same binary invoked as `kubectl-tusk`. Its commands work against
 * any cluster a kubeconfig reaches.
 */
import { Command } from "@effect/cli"
import { Console } from "effect"
import { versionLine } from "../Version.ts"

const version = Command.make("version", {}, () => Console.log(versionLine)).pipe(
  Command.withDescription("Print the plugin's version."),
)

/** The root of the kubectl plugin. */
export const pluginCommand = Command.make("kubectl-tusk").pipe(
  Command.withDescription("Manage Tusk PostgreSQL clusters from kubectl."),
  Command.withSubcommands([version]),
)
