/** `kubectl tusk fencing on|off CLUSTER INSTANCE|*`: edits `tusk.dev/fencedInstances`. */
import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { annotations } from "../api/Naming.ts"
import { fencedList } from "./status/Assemble.ts"
import { editFencing } from "./Decisions.ts"
import * as Kinds from "./Kinds.ts"
import { clusterNotFound, connect, clusterArg, connectionOptions, explain, PluginError } from "./Target.ts"

const args = {
  ...connectionOptions,
  cluster: clusterArg,
  instance: Args.text({ name: "INSTANCE|*" }).pipe(Args.withDescription("An instance name, or * for every instance.")),
}

const fence = (on: boolean) =>
  Command.make(on ? "on" : "off", args, (flags) =>
    Effect.gen(function* () {
      const target = yield* connect(flags)
      const cluster = yield* target.client.get(Kinds.clusters, flags.cluster, { namespace: target.namespace }).pipe(
        Effect.mapError(clusterNotFound(target, flags.cluster)),
      )
      const all = cluster.status?.instanceNames ?? []
      if (flags.instance !== "*" && !all.includes(flags.instance)) {
        return yield* new PluginError({
          message: `${flags.instance} is not an instance of Cluster ${flags.cluster} (instances: ${all.join(", ") || "none"})`,
          hint: `use an instance name or '*' for all`,
        })
      }
      const current = fencedList(cluster.metadata.annotations?.[annotations.fencedInstances])
      const next = editFencing(current, on, flags.instance, all)
      // resourceVersion makes the merge patch fail rather than overwrite a concurrent edit.
      yield* target.client.patch(Kinds.clusters, flags.cluster, {
        type: "merge",
        patch: { metadata: { resourceVersion: cluster.metadata.resourceVersion, annotations: { [annotations.fencedInstances]: next ?? null } } },
      }, { namespace: target.namespace }).pipe(
        Effect.mapError((e) =>
          e._tag === "Conflict"
            ? new PluginError({ message: "the Cluster changed while fencing was edited", hint: "run the command again" })
            : explain(`annotating Cluster ${flags.cluster}`)(e)
        ),
      )
      yield* Console.log(`Fenced instances of ${flags.cluster}: ${next ?? "none"}`)
    })).pipe(
      Command.withDescription(
        on
          ? "Fence an instance (or '*' for all): its PostgreSQL stops and stays stopped; a fenced primary is not failed over.\n\nExamples:\n  kubectl tusk fencing on mycluster mycluster-2\n  kubectl tusk fencing on mycluster '*'"
          : "Lift fencing from an instance (or '*' for all).\n\nExamples:\n  kubectl tusk fencing off mycluster mycluster-2\n  kubectl tusk fencing off mycluster '*'",
      ),
    )

export const fencing = Command.make("fencing").pipe(
  Command.withDescription("Fence instances (stop PostgreSQL, keep the pod) or lift fencing."),
  Command.withSubcommands([fence(true), fence(false)]),
)
