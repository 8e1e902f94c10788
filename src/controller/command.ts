/**
 * `tusk controller`: the operator process. It connects (flag, KUBECONFIG, in-cluster, or
 * ~/.kube/config), serves metrics and probes, watches Clusters, elects a leader and runs
 * the controllers on it until SIGTERM, when it stops reconciling and releases the lease.
 * What the controllers do comes in as a `Setup`.
 */
import { Command, Options } from "@effect/cli"
import { Config, Duration, Effect, Layer, Option, type Scope } from "effect"
import { hostname } from "node:os"
import type * as Controller from "../kube/Controller.ts"
import * as EventRecorder from "../kube/EventRecorder.ts"
import * as Health from "../kube/Health.ts"
import * as JsonLogger from "../kube/JsonLogger.ts"
import * as KubeClient from "../kube/KubeClient.ts"
import * as KubeConfig from "../kube/KubeConfig.ts"
import * as Manager from "../kube/Manager.ts"

/** What the controllers need to know from the command line. */
export interface SetupContext {
  /** Namespace to watch; all when undefined. */
  readonly namespace: string | undefined
  readonly workers: number
}

/** Builds the controllers (and their informers) in the manager's scope. */
export type Setup = (
  context: SetupContext,
) => Effect.Effect<ReadonlyArray<Controller.Controller>, never, Scope.Scope | KubeClient.KubeClient | EventRecorder.EventRecorder>

const options = {
  kubeconfig: Options.text("kubeconfig").pipe(Options.optional, Options.withDescription("Path to a kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config).")),
  context: Options.text("context").pipe(Options.optional, Options.withDescription("Kubeconfig context to use.")),
  namespace: Options.text("namespace").pipe(Options.optional, Options.withDescription("Watch only this namespace (default: all).")),
  leaderElect: Options.boolean("leader-elect").pipe(Options.withDescription("Elect a leader on a Lease; only the leader reconciles.")),
  leaderElectionNamespace: Options.text("leader-election-namespace").pipe(Options.optional, Options.withDescription("Namespace of the Lease (default: OPERATOR_NAMESPACE, else the connection's).")),
  leaderElectionId: Options.text("leader-election-id").pipe(Options.withDefault("tusk-controller"), Options.withDescription("Name of the Lease.")),
  leaseDuration: Options.integer("lease-duration").pipe(Options.withDefault(15), Options.withDescription("Seconds a standby waits before taking an unrenewed lease.")),
  renewDeadline: Options.integer("renew-deadline").pipe(Options.withDefault(10), Options.withDescription("Seconds the leader keeps trying to renew before it stops leading.")),
  retryPeriod: Options.integer("retry-period").pipe(Options.withDefault(2), Options.withDescription("Seconds between lease attempts.")),
  metricsAddress: Options.text("metrics-bind-address").pipe(Options.withDefault(":8080"), Options.withDescription("Metrics address; 0 turns it off.")),
  healthAddress: Options.text("health-probe-bind-address").pipe(Options.withDefault(":8081"), Options.withDescription("Probe address; 0 turns it off.")),
  workers: Options.integer("workers").pipe(Options.withDefault(4), Options.withDescription("Concurrent reconciles (of different Clusters).")),
}

/** Where the operator runs, from its Deployment's environment (through Effect's Config). */
const environment = Config.all({
  podName: Config.option(Config.string("POD_NAME")),
  operatorNamespace: Config.option(Config.string("OPERATOR_NAMESPACE")),
})

/** `tusk controller` running the given setup. */
export const make = (setup: Setup) =>
  Command.make("controller", options, (flags) =>
    Effect.gen(function* () {
      const env = yield* environment
      const connection = yield* KubeConfig.resolveFromEnvironment(flags)
      const identity = Option.getOrElse(env.podName, () => `${hostname()}_${crypto.randomUUID()}`)
      const leaderElection = flags.leaderElect
        ? {
          namespace: Option.getOrElse(flags.leaderElectionNamespace, () => Option.getOrElse(env.operatorNamespace, () => connection.namespace)),
          name: flags.leaderElectionId,
          identity,
          leaseDuration: Duration.seconds(flags.leaseDuration),
          renewDeadline: Duration.seconds(flags.renewDeadline),
          retryPeriod: Duration.seconds(flags.retryPeriod),
        }
        : undefined
      yield* Effect.logInfo("starting controller").pipe(
        Effect.annotateLogs({ server: connection.server, identity, leaderElection: leaderElection !== undefined }),
      )
      const services = EventRecorder.layer({ controller: "tusk.dev/controller", instance: identity }).pipe(
        Layer.provideMerge(Layer.succeed(KubeClient.KubeClient, KubeClient.make(connection))),
        Layer.merge(Health.layer),
      )
      return yield* Manager.run(
        { endpoints: { metricsAddress: flags.metricsAddress, healthAddress: flags.healthAddress }, leaderElection },
        setup({ namespace: Option.getOrUndefined(flags.namespace), workers: flags.workers }),
      ).pipe(Effect.scoped, Effect.provide(services))
    }).pipe(
      Effect.onInterrupt(() => Effect.logInfo("controller stopped")),
      Effect.tapErrorCause((cause) => Effect.logError("controller failed", cause)),
      Effect.provide(JsonLogger.layer),
    )).pipe(Command.withDescription("Run the operator: watch Clusters and reconcile them (leader only)."))

