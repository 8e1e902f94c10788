/**
 * `tusk controller` with an observe-only setup (no reconciler): what the runtime's
 * process tests and benchmark compile, so they measure the machinery alone.
 */
import { Command } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Effect, Option } from "effect"
import * as ControllerCommand from "../../src/controller/command.ts"
import * as Kinds from "../../src/controller/Kinds.ts"
import * as Informer from "../../src/kube/Informer.ts"

/** Watches Clusters and logs what it would reconcile; writes nothing. */
const observeOnly: ControllerCommand.Setup = ({ namespace, workers }) =>
  Effect.gen(function* () {
    const informer = yield* Informer.make(Kinds.clusters, { namespace })
    return [{
      name: "cluster",
      primary: informer,
      workers,
      reconcile: (request) =>
        Effect.flatMap(informer.get(request.key), (cluster) =>
          Effect.logInfo(Option.isSome(cluster) ? "cluster observed" : "cluster gone")),
    }]
  })

const root = Command.make("tusk").pipe(Command.withSubcommands([ControllerCommand.make(observeOnly)]))
Command.run(root, { name: "tusk", version: "test" })(process.argv).pipe(Effect.provide(BunContext.layer), BunRuntime.runMain)
