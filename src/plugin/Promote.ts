/** `kubectl tusk promote CLUSTER INSTANCE [--wait]`: a switchover through `status.targetPrimary`. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Either, Schedule } from "effect"
import { checkPromote } from "./Decisions.ts"
import * as Kinds from "./Kinds.ts"
import { gather } from "./status/Gather.ts"
import { clusterNotFound, connect, clusterArg, connectionOptions, explain, PluginError, type Target } from "./Target.ts"

const options = {
  ...connectionOptions,
  wait: Options.boolean("wait").pipe(Options.withDescription("Wait until the instance is the primary and the Cluster is healthy again.")),
  timeout: Options.integer("timeout").pipe(Options.withDefault(180), Options.withDescription("Seconds --wait waits before failing.")),
}

/** Wait until `instance` is the current primary with no hand-over left. */
const waitForPrimary = (target: Target, cluster: string, instance: string, timeout: Duration.Duration) =>
  target.client.get(Kinds.clusters, cluster, { namespace: target.namespace }).pipe(
    Effect.mapError(clusterNotFound(target, cluster)),
    Effect.filterOrFail(
      (c) => c.status?.currentPrimary === instance && (c.status.targetPrimary ?? instance) === instance && c.status.phase === "Cluster in healthy state",
      () => new PluginError({ message: "not yet" }),
    ),
    Effect.retry(Schedule.spaced("250 millis")),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new PluginError({
          message: `${instance} did not become the healthy primary within ${Duration.format(timeout)}`,
          hint: `see kubectl tusk status ${cluster} -n ${target.namespace} and kubectl get events -n ${target.namespace}`,
        }),
    }),
  )

export const promote = Command.make(
  "promote",
  { ...options, cluster: clusterArg, instance: Args.text({ name: "INSTANCE" }).pipe(Args.withDescription("The replica to become primary, e.g. mycluster-2.")) },
  (flags) =>
    Effect.gen(function* () {
      const target = yield* connect(flags)
      const report = yield* gather(target, flags.cluster, false)
      const check = checkPromote(report, flags.instance)
      if (Either.isLeft(check)) return yield* new PluginError({ message: `cannot promote: ${check.left}` })
      const current = report.summary.primary
      // The test makes the write fail if another hand-over started since we looked.
      yield* target.client.patch(Kinds.clusters, flags.cluster, {
        type: "json",
        patch: [
          { op: "test", path: "/status/targetPrimary", value: current },
          { op: "replace", path: "/status/targetPrimary", value: flags.instance },
          { op: "add", path: "/status/targetPrimaryTimestamp", value: new Date().toISOString() },
        ],
      }, { namespace: target.namespace, subresource: "status" }).pipe(
        Effect.mapError((e) =>
          e._tag === "Invalid" || e._tag === "Conflict" || (e._tag === "ApiError" && e.code === 422)
            ? new PluginError({ message: "cannot promote: the Cluster's primary changed meanwhile", hint: `look again: kubectl tusk status ${flags.cluster}` })
            : explain(`setting status.targetPrimary of Cluster ${flags.cluster}`)(e)
        ),
      )
      yield* Console.log(`Switchover of Cluster ${flags.cluster} from ${current} to ${flags.instance} requested.`)
      if (!flags.wait) return
      const started = Date.now()
      yield* waitForPrimary(target, flags.cluster, flags.instance, Duration.seconds(flags.timeout))
      yield* Console.log(`${flags.instance} is the primary (${((Date.now() - started) / 1000).toFixed(1)} s).`)
    }),
).pipe(
  Command.withDescription(
    "Switch the primary over to a ready replica. The operator stops the old primary, then the replica promotes.\n\n" +
      "Examples:\n  kubectl tusk promote mycluster mycluster-2\n  kubectl tusk promote mycluster mycluster-2 --wait -n prod",
  ),
)
