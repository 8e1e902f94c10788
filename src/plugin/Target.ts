/**
 * What every plugin command shares: `-n/--namespace`, `--kubeconfig` and `--context` as
 * kubectl reads them, the client they resolve to, and the one error type the root turns
 * into a message and an exit code.
 */
import { Args, Options } from "@effect/cli"
import { Data, Effect, Option } from "effect"
import type * as KubeError from "../kube/KubeError.ts"
import * as KubeClient from "../kube/KubeClient.ts"
import * as KubeConfig from "../kube/KubeConfig.ts"

/** A failure the user can act on: what went wrong and what to do about it. */
export class PluginError extends Data.TaggedError("PluginError")<{
  readonly message: string
  readonly hint?: string | undefined
}> {}

/** The connection flags of every command. */
export const connectionOptions = {
  namespace: Options.text("namespace").pipe(
    Options.withAlias("n"),
    Options.optional,
    Options.withDescription("Namespace of the Cluster (default: the context's namespace)."),
  ),
  kubeconfig: Options.file("kubeconfig").pipe(
    Options.optional,
    Options.withDescription("Path to a kubeconfig file (default: KUBECONFIG, then ~/.kube/config)."),
  ),
  context: Options.text("context").pipe(Options.optional, Options.withDescription("Kubeconfig context to use.")),
}

/** The parsed connection flags. */
export interface ConnectionFlags {
  readonly namespace: Option.Option<string>
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
}

/** A client and the namespace the command works in. */
export interface Target {
  readonly client: KubeClient.Client
  readonly namespace: string
}


/** Resolve the flags (and KUBECONFIG, HOME, or a pod's service account) to a client. */
export const connect = Effect.fn("Plugin.connect")(function* (flags: ConnectionFlags) {
  const connection = yield* KubeConfig.resolveFromEnvironment(flags).pipe(
    Effect.mapError((e) =>
      new PluginError({ message: e.message, hint: "pass --kubeconfig FILE or set KUBECONFIG, and --context NAME to pick a context" })
    ),
  )
  return {
    client: KubeClient.make(connection),
    namespace: Option.getOrElse(flags.namespace, () => connection.namespace),
  } satisfies Target
})

/** Turn an API failure into a PluginError that says what was being done and what to try. */
export const explain = (doing: string) => (e: KubeError.KubeError): PluginError => {
  switch (e._tag) {
    case "Unauthorized":
      return new PluginError({ message: `${doing}: the API server did not accept the credentials`, hint: "check the user of your kubeconfig context" })
    case "Forbidden":
      return new PluginError({ message: `${doing}: forbidden: ${e.message}`, hint: "ask for the RBAC permission named above" })
    case "Unavailable":
      return new PluginError({ message: `${doing}: API server unreachable or busy: ${e.message}`, hint: "check the server of your kubeconfig context and retry" })
    default:
      return new PluginError({ message: `${doing}: ${e.message}` })
  }
}

/** A NotFound of the Cluster becomes the usual advice; other failures are explained. */
export const clusterNotFound = (target: Target, cluster: string) => (e: KubeError.KubeError): PluginError =>
  e._tag === "NotFound"
    ? new PluginError({
      message: `Cluster ${cluster} not found in namespace ${target.namespace}`,
      hint: `list the clusters with: kubectl get clusters.postgresql.tusk.dev -n ${target.namespace} (or pass -n NAMESPACE)`,
    })
    : explain(`reading Cluster ${cluster}`)(e)

/** A program the plugin ran (psql, kubectl) ended with this code, which becomes the plugin's own. */
export class ChildExited extends Data.TaggedError("ChildExited")<{ readonly code: number }> {}

/** The CLUSTER argument of every command. */
export const clusterArg = Args.text({ name: "CLUSTER" }).pipe(Args.withDescription("Name of the Cluster (kubectl get clusters.postgresql.tusk.dev)."))
