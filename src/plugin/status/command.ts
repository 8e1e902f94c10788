/** `kubectl tusk status CLUSTER [-o text|json|yaml] [-v]`. */
import { Command, Options } from "@effect/cli"
import { Config, Console, Effect } from "effect"
import { stringify } from "yaml"
import { connect, clusterArg, connectionOptions } from "../Target.ts"
import { gather } from "./Gather.ts"
import { renderText } from "./Render.ts"

const options = {
  ...connectionOptions,
  output: Options.choice("output", ["text", "json", "yaml"]).pipe(
    Options.withAlias("o"),
    Options.withDefault("text" as const),
    Options.withDescription("Output format."),
  ),
  verbose: Options.boolean("verbose").pipe(Options.withAlias("v"), Options.withDescription("Also show PodDisruptionBudgets and every instance's detail.")),
}

/** Colour only when a person is looking, and not when NO_COLOR is set. */
const useColor = Config.string("NO_COLOR").pipe(
  Config.withDefault(""),
  Config.map((noColor) => process.stdout.isTTY === true && noColor === ""),
  Effect.orElseSucceed(() => false),
)

export const status = Command.make("status", { ...options, cluster: clusterArg }, (flags) =>
  Effect.gen(function* () {
    const target = yield* connect(flags)
    const report = yield* gather(target, flags.cluster, flags.verbose)
    const text = flags.output === "json"
      ? JSON.stringify(report, null, 2) + "\n"
      : flags.output === "yaml"
        ? stringify(report)
        : renderText(report, { color: yield* useColor, now: new Date(), verbose: flags.verbose })
    yield* Console.log(text.trimEnd())
  })).pipe(
    Command.withDescription(
      "Show a Cluster: summary, certificates, streaming replication, instances, Pending instances and why, PDBs (-v).\n\n" +
        "Examples:\n  kubectl tusk status mycluster\n  kubectl tusk status mycluster -n prod -v\n  kubectl tusk status mycluster -o json | jq .instances",
    ),
  )
