/**
 * `kubectl tusk restart CLUSTER [INSTANCE]` and `kubectl tusk reload CLUSTER`: the Cluster's
 * `tusk.dev/restartedAt` / `tusk.dev/reloadedAt` annotations, or one instance's pod deleted
 * (its PVC stays and the operator recreates the pod on it).
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { annotations, labels } from "../api/Naming.ts"
import * as Kinds from "./Kinds.ts"
import { clusterNotFound, connect, clusterArg, connectionOptions, explain, PluginError, type Target } from "./Target.ts"

/** Set an annotation on the Cluster to the current time. */
const stamp = (target: Target, cluster: string, key: string) =>
  target.client.patch(Kinds.clusters, cluster, {
    type: "merge",
    patch: { metadata: { annotations: { [key]: new Date().toISOString() } } },
  }, { namespace: target.namespace }).pipe(Effect.mapError(clusterNotFound(target, cluster)))

const restartInstance = (target: Target, cluster: string, instance: string) =>
  Effect.gen(function* () {
    const c = yield* target.client.get(Kinds.clusters, cluster, { namespace: target.namespace }).pipe(Effect.mapError(clusterNotFound(target, cluster)))
    const pod = yield* target.client.get(Kinds.pods, instance, { namespace: target.namespace }).pipe(
      Effect.mapError((e) =>
        e._tag === "NotFound"
          ? new PluginError({ message: `instance ${instance} has no pod in namespace ${target.namespace}`, hint: `see the instances with: kubectl tusk status ${cluster}` })
          : explain(`reading pod ${instance}`)(e)
      ),
    )
    if (pod.metadata.labels?.[labels.cluster] !== cluster || pod.metadata.labels[labels.podRole] !== "instance") {
      return yield* new PluginError({ message: `${instance} is not an instance of Cluster ${cluster}`, hint: `see the instances with: kubectl tusk status ${cluster}` })
    }
    yield* target.client.delete(Kinds.pods, instance, { namespace: target.namespace }).pipe(Effect.mapError(explain(`deleting pod ${instance}`)))
    const primary = c.status?.currentPrimary === instance
    yield* Console.log(`Pod ${instance} deleted; the operator recreates it on the same volume.`)
    if (primary) yield* Console.log(`${instance} was the primary: a replica takes over (use promote first for a planned switchover).`)
  })

export const restart = Command.make(
  "restart",
  { ...connectionOptions, cluster: clusterArg, instance: Args.text({ name: "INSTANCE" }).pipe(Args.withDescription("Restart only this instance (its pod is recreated on its volume)."), Args.optional) },
  (flags) =>
    Effect.gen(function* () {
      const target = yield* connect(flags)
      if (Option.isSome(flags.instance)) return yield* restartInstance(target, flags.cluster, flags.instance.value)
      yield* stamp(target, flags.cluster, annotations.restartedAt)
      yield* Console.log(`Rolling restart of Cluster ${flags.cluster} requested (replicas first, then the primary).`)
    }),
).pipe(
  Command.withDescription(
    "Restart every instance (rolling, primary last), or one instance by recreating its pod (its volume stays).\n\n" +
      "Examples:\n  kubectl tusk restart mycluster\n  kubectl tusk restart mycluster mycluster-2 -n prod",
  ),
)

export const reload = Command.make("reload", { ...connectionOptions, cluster: clusterArg }, (flags) =>
  Effect.gen(function* () {
    const target = yield* connect(flags)
    yield* stamp(target, flags.cluster, annotations.reloadedAt)
    yield* Console.log(`Configuration reload of Cluster ${flags.cluster} requested.`)
  })).pipe(
    Command.withDescription("Ask every instance to reload its configuration.\n\nExample:\n  kubectl tusk reload mycluster"),
  )
