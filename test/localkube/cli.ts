/**
 * `localkube up | down | status | kubeconfig | exec -- CMD...`: the local Kubernetes
 * control plane from the command line (`npm run localkube -- <verb>`).
 *
 * Environment: LOCALKUBE_STATE overrides the state directory, LOCALKUBE_CACHE the
 * binary cache root (read by go/build.sh).
 */
import { Args, Command, Options } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Console, Effect, Layer } from "effect"
import * as Layout from "./layout.ts"
import * as LocalKube from "./controlplane/LocalKube.ts"
import * as NodeCli from "./node/Cli.ts"

const name = Options.text("name").pipe(
  Options.withDescription("cluster name (several may run side by side)"),
  Options.withDefault(Layout.defaultClusterName),
)

const withService = <A, E>(cluster: string, f: (lk: LocalKube.LocalKubeService) => Effect.Effect<A, E>) =>
  Effect.flatMap(LocalKube.LocalKube, f).pipe(
    Effect.provide(
      LocalKube.layer.pipe(
        Layer.provide(
          Layer.succeed(LocalKube.LocalKubeConfigTag, LocalKube.configFor(cluster, process.env["LOCALKUBE_STATE"])),
        ),
      ),
    ),
  )

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

const up = Command.make("up", { name, nodes: NodeCli.nodesOption }, ({ name, nodes }) =>
  withService(name, (lk) =>
    Effect.gen(function* () {
      const t0 = Date.now()
      const r = yield* lk.up
      if (!r.started) yield* Console.log(`localkube ${name}: already running (checked in ${seconds(Date.now() - t0)})`)
      else {
        yield* Console.log(`localkube ${name}: up in ${seconds(Date.now() - t0)} (${r.timings.map(([p, ms]) => `${p} ${seconds(ms)}`).join(", ")})`)
      }
      yield* NodeCli.startNodes(lk, nodes)
      yield* Console.log(`kubeconfig: ${r.kubeconfig}`)
      yield* Console.log(`run commands inside: npm run localkube -- exec -- kubectl get ns`)
    }),
  ),
).pipe(Command.withDescription("start the control plane, or reuse a running one"))

const purge = Options.boolean("purge").pipe(Options.withDescription("also delete the state directory (certificates, etcd data, logs)"))

const down = Command.make("down", { name, purge }, ({ name, purge }) =>
  withService(name, (lk) =>
    Effect.gen(function* () {
      const t0 = Date.now()
      yield* lk.down
      if (purge) LocalKube.purgeState(lk.paths)
      yield* Console.log(`localkube ${name}: down in ${seconds(Date.now() - t0)}${purge ? ", state deleted" : ""}`)
    }),
  ),
).pipe(Command.withDescription("stop every process, delete the network namespace"))

const status = Command.make("status", { name }, ({ name }) =>
  withService(name, (lk) =>
    Effect.gen(function* () {
      const s = yield* lk.status
      yield* Console.log(`cluster ${s.cluster}: netns ${s.netns} ${s.netnsExists ? "present" : "absent"}, API server ${s.apiServerReady ? "ready" : "not ready"}`)
      for (const c of s.components) yield* Console.log(`  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.alive ? "running" : "dead"}  ${c.log}`)
      yield* Console.log(`state: ${s.stateDir}`)
      if (!s.apiServerReady) return yield* Effect.sync(() => (process.exitCode = 1))
    }),
  ),
).pipe(Command.withDescription("show the components and whether the API server is ready"))

const kubeconfig = Command.make("kubeconfig", { name }, ({ name }) =>
  withService(name, (lk) => Console.log(lk.paths.adminKubeconfig)),
).pipe(Command.withDescription("print the path of the admin kubeconfig (usable inside the namespace)"))

const argv = Args.text({ name: "command" }).pipe(Args.repeated)

const exec = Command.make("exec", { name, argv }, ({ name, argv }) =>
  withService(name, (lk) =>
    Effect.gen(function* () {
      if (argv.length === 0) return yield* Effect.fail(new LocalKube.LocalKubeError({ message: "usage: localkube exec -- CMD [ARGS...]" }))
      const code = yield* lk.execInteractive(argv)
      process.exitCode = code
    }),
  ),
).pipe(Command.withDescription("run a command inside the cluster's network namespace with KUBECONFIG and kubectl on PATH"))

const root = Command.make("localkube").pipe(Command.withSubcommands([up, down, status, kubeconfig, exec, NodeCli.nodeCommand(name, withService)]))

const cli = Command.run(root, { name: "localkube", version: Layout.kubernetesVersion })

cli(process.argv).pipe(
  Effect.catchTag("LocalKubeError", (e) =>
    Console.error(`localkube: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))),
  ),
  Effect.provide(BunContext.layer),
  BunRuntime.runMain,
)
