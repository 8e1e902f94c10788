/**
 * The local demo, as the README's quick start runs it:
 *
 *   npm run up [-- --timeout SECONDS --nodes N]
 *       local Kubernetes (cluster "demo") with N node agents, dist/tusk built when missing
 *       or stale, the operator installed in-cluster from manifests/overlays/localkube,
 *       the sample Cluster applied; waits for "Cluster in healthy state" with progress
 *       lines. On timeout it prints the phase, events and the logs of the failing pods,
 *       and exits 1, leaving everything up for a look.
 *   npm run psql -- CLUSTER [-- PSQL ARGS...]
 *       psql as the superuser (password from the CLUSTER-superuser Secret) through the
 *       CLUSTER-rw Service, from inside the cluster network.
 *   npm run down
 *       stops the demo's control plane, node agents and pods; deletes its state.
 *
 * The demo has its own local cluster, so tests (which use the default one) never meet
 * its in-cluster operator.
 */
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Args, Command, Options } from "@effect/cli"
import { BunContext, BunRuntime } from "@effect/platform-bun"
import { Console, Data, Effect, Schema } from "effect"
import { parse as parseYaml } from "yaml"
import * as LocalKube from "./controlplane/LocalKube.ts"
import * as Network from "./controlplane/Network.ts"
import * as Progress from "./demo/Progress.ts"
import pkg from "../../package.json" with { type: "json" }
import * as NodeCli from "./node/Cli.ts"
import { agentName } from "./node/Nodes.ts"

/** The demo's local cluster (netns lk-demo, state in .localkube/demo). */
const demoCluster = "demo"
const operatorNamespace = "tusk-system"
const operatorDeployment = "tusk-controller"
const operatorSelector = "app.kubernetes.io/name=tusk,app.kubernetes.io/component=controller"
/** Restarts after which an operator that is not Ready counts as crash-looping. */
const operatorCrashLimit = 4
const clusterCrd = "clusters.postgresql.tusk.dev"
const clusterNamespace = "default"
const root = LocalKube.repoRoot
const overlay = join(root, "manifests", "overlays", "localkube")
const sampleFile = join(root, "manifests", "samples", "cluster-example.yaml")
const binary = join(root, "dist", "tusk")

class DemoError extends Data.TaggedError("DemoError")<{ readonly message: string }> {}

const service = () => LocalKube.make(LocalKube.configFor(demoCluster))

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`

const decodeJson = <A, I>(schema: Schema.Schema<A, I>, what: string) => (text: string) =>
  Schema.decodeUnknown(Schema.parseJson(schema))(text).pipe(
    Effect.mapError((e) => new DemoError({ message: `reading ${what}: ${e.message}` })),
  )

/** kubectl ... -o json, decoded. */
const getJson = <A, I>(lk: LocalKube.LocalKubeService, schema: Schema.Schema<A, I>, args: ReadonlyArray<string>) =>
  lk.kubectl([...args, "-o", "json"]).pipe(
    Effect.mapError((e) => new DemoError({ message: e.message })),
    Effect.flatMap(decodeJson(schema, `kubectl ${args.join(" ")}`)),
  )

/** Builds dist/tusk when it is missing or older than any source it is built from. */
const ensureBinary = Effect.fn("Demo.ensureBinary")(function* () {
  const sources = [
    ...new Bun.Glob("src/**/*.ts").scanSync({ cwd: root, absolute: true }),
    ...["build.ts", "package.json", "package-lock.json", "bunfig.toml"].map((f) => join(root, f)),
  ].filter(existsSync)
  const mtime = existsSync(binary) ? statSync(binary).mtimeMs : undefined
  if (!Progress.needsBuild(mtime, sources.map((f) => statSync(f).mtimeMs))) return
  yield* Console.log(mtime === undefined ? "building dist/tusk" : "dist/tusk is older than its sources: rebuilding")
  const code = yield* Effect.promise(
    () => Bun.spawn([process.execPath, "build.ts"], { cwd: root, stdin: "ignore", stdout: "inherit", stderr: "inherit" }).exited,
  )
  if (code !== 0) return yield* new DemoError({ message: `bun build.ts exited ${code}` })
})

/**
 * Polls `observe` every 2 seconds until it reports done, printing its line whenever the
 * line changes; fails after the deadline, or at once when it says to give up. A failed
 * observation (the API server busy, an object not there yet) is shown and retried.
 */
const waitFor = <A>(
  what: string,
  start: number,
  deadline: number,
  observe: Effect.Effect<{ readonly done: A | undefined; readonly line: string; readonly giveUp?: string }, DemoError>,
) =>
  Effect.gen(function* () {
    let last = ""
    for (;;) {
      const r = yield* Effect.either(observe)
      const line = r._tag === "Right" ? r.right.line : `(${r.left.message.split("\n")[0]})`
      if (line !== last) yield* Console.log(`  [${seconds(Date.now() - start).padStart(4)}] ${line}`)
      last = line
      if (r._tag === "Right" && r.right.done !== undefined) return r.right.done
      if (r._tag === "Right" && r.right.giveUp !== undefined) return yield* new DemoError({ message: r.right.giveUp })
      if (Date.now() > deadline) return yield* new DemoError({ message: `timed out waiting for ${what}` })
      yield* Effect.sleep("2 seconds")
    }
  })

const listPods = (lk: LocalKube.LocalKubeService, namespace: string, selector?: string) =>
  getJson(lk, Progress.PodList, ["get", "pods", "-n", namespace, ...(selector === undefined ? [] : ["-l", selector])]).pipe(
    Effect.map((l) => l.items),
  )

const waitNodes = (lk: LocalKube.LocalKubeService, count: number, start: number, deadline: number) =>
  waitFor(`${count} Ready nodes`, start, deadline, Effect.gen(function* () {
    const ready = Progress.readyNodes(yield* getJson(lk, Progress.NodeList, ["get", "nodes"])).filter((n) => n.startsWith("lk-node-"))
    return { done: ready.length >= count ? ready : undefined, line: `nodes Ready: ${ready.length}/${count}` }
  }))

const waitOperator = (lk: LocalKube.LocalKubeService, start: number, deadline: number) =>
  waitFor("the operator to be Ready", start, deadline, Effect.gen(function* () {
    const deployment = yield* getJson(lk, Progress.Deployment, ["get", "deployment", operatorDeployment, "-n", operatorNamespace])
    const pods = yield* listPods(lk, operatorNamespace, operatorSelector)
    const line = `operator: ${pods.length === 0 ? "no pod yet" : pods.map(Progress.podSummary).join(", ")}`
    const done = Progress.rolledOut(deployment)
    // A crash loop does not end by waiting: say so now rather than at the deadline.
    const giveUp = !done && Progress.crashLooping(pods, operatorCrashLimit) ? "the operator keeps crashing" : undefined
    return { done: done ? true : undefined, line, ...(giveUp === undefined ? {} : { giveUp }) }
  }))

const waitHealthy = (lk: LocalKube.LocalKubeService, name: string, start: number, deadline: number) =>
  waitFor(`Cluster ${name} to be healthy`, start, deadline, Effect.gen(function* () {
    const cluster = yield* getJson(lk, Progress.Cluster, ["get", "cluster", name, "-n", clusterNamespace])
    const pods = yield* listPods(lk, clusterNamespace)
    return { done: Progress.isHealthy(cluster) ? cluster : undefined, line: Progress.clusterLine(cluster, pods) }
  }))

/** Runs a command inside the cluster netns and prints its output under a heading, whatever its exit code. */
const show = (lk: LocalKube.LocalKubeService, heading: string, argv: ReadonlyArray<string>) =>
  lk.exec(argv).pipe(
    Effect.flatMap((r) => Console.log(`\n--- ${heading}\n${(r.stdout + r.stderr).trimEnd() || "(nothing)"}`)),
    Effect.catchAll((e) => Console.log(`\n--- ${heading}\n(${e.message})`)),
  )

/** What went wrong: the Cluster's status, the pods, recent events, and the logs of pods that are not fine. */
const diagnose = (lk: LocalKube.LocalKubeService, name: string) =>
  Effect.gen(function* () {
    yield* show(lk, `Cluster ${name}`, ["bash", "-c", `kubectl get cluster ${name} -n ${clusterNamespace} -o yaml | sed -n '/^status:/,$p'`])
    yield* show(lk, "pods", ["kubectl", "get", "pods", "-A", "-o", "wide"])
    yield* show(lk, "jobs and PVCs", ["kubectl", "get", "jobs,pvc", "-n", clusterNamespace])
    yield* show(lk, "recent events", ["bash", "-c", `kubectl get events -A --sort-by=.lastTimestamp | tail -n 30`])
    const operatorPods = yield* listPods(lk, operatorNamespace, operatorSelector).pipe(Effect.orElseSucceed(() => []))
    const clusterPods = yield* listPods(lk, clusterNamespace).pipe(Effect.orElseSucceed(() => []))
    // Every operator pod (its log says what it decided), and the cluster's pods that are not fine.
    const logsOf = [
      ...operatorPods.map((p) => ({ ns: operatorNamespace, name: p.metadata.name, previous: Progress.troubledPods([p]).some((t) => t.previous) })),
      ...Progress.troubledPods(clusterPods).map((p) => ({ ns: clusterNamespace, ...p })),
    ]
    for (const p of logsOf) {
      yield* show(lk, `log of ${p.ns}/${p.name} (last 60 lines)`, ["kubectl", "logs", "-n", p.ns, p.name, "--all-containers", "--prefix", "--tail=60"])
      if (p.previous) {
        yield* show(lk, `log of ${p.ns}/${p.name}, previous run`, ["kubectl", "logs", "-n", p.ns, p.name, "--all-containers", "--prefix", "--previous", "--tail=60"])
      }
    }
    yield* Console.log(`\nlogs of the control plane and the node agents (${agentName(1)}.log, ...): ${lk.paths.logs}`)
  })

const sampleName = Effect.try({
  try: () => Schema.decodeUnknownSync(Progress.Manifest)(parseYaml(readFileSync(sampleFile, "utf8"))).metadata.name,
  catch: (e) => new DemoError({ message: `reading ${sampleFile}: ${String(e)}` }),
})

const timeout = Options.integer("timeout").pipe(
  Options.withDescription("seconds to wait for the operator and the Cluster to become healthy"),
  Options.withDefault(600),
)

const up = Command.make("up", { timeout, nodes: NodeCli.nodesOption }, ({ timeout, nodes }) =>
  Effect.gen(function* () {
    const start = Date.now()
    const deadline = start + timeout * 1000
    const lk = service()
    const name = yield* sampleName
    yield* ensureBinary()
    const r = yield* lk.up
    yield* Console.log(
      r.started
        ? `local Kubernetes "${demoCluster}" up (${r.timings.map(([p, ms]) => `${p} ${seconds(ms)}`).join(", ")})`
        : `local Kubernetes "${demoCluster}" already running`,
    )
    yield* NodeCli.startNodes(lk, nodes)
    yield* waitNodes(lk, nodes, start, deadline)

    yield* Console.log(`installing the operator: kubectl apply --server-side -k manifests/overlays/localkube`)
    yield* lk.kubectl(["apply", "--server-side", "--force-conflicts", "-k", overlay])
    // Not `kubectl wait`: it fails instead of waiting while a new CRD has no conditions yet.
    yield* waitFor("the Cluster CRD", start, deadline, Effect.map(
      getJson(lk, Progress.Crd, ["get", "crd", clusterCrd]),
      (crd) => ({ done: Progress.established(crd) ? true : undefined, line: `CRD ${clusterCrd}: ${Progress.established(crd) ? "established" : "not yet established"}` }),
    ))
    yield* waitOperator(lk, start, deadline)

    yield* Console.log(`creating Cluster ${name}: kubectl apply -f manifests/samples/cluster-example.yaml`)
    yield* lk.kubectl(["apply", "--server-side", "-n", clusterNamespace, "-f", sampleFile])
    const cluster = yield* waitHealthy(lk, name, start, deadline)

    yield* Console.log(
      [
        "",
        `Cluster ${name} is healthy: ${cluster.status?.readyInstances}/${cluster.spec.instances} instances ready, primary ${cluster.status?.currentPrimary ?? "?"} (${seconds(Date.now() - start)} in all)`,
        "",
        `connect (psql as postgres through ${name}-rw, inside the cluster network):`,
        `  npm run psql -- ${name}`,
        `  npm run psql -- ${name} -- -c 'SHOW timezone'`,
        "look around:",
        `  npm run localkube -- exec --name ${demoCluster} -- kubectl get cluster,pods,svc,pvc`,
        "stop everything:",
        "  npm run down",
      ].join("\n"),
    )
  }).pipe(
    Effect.tapError((e) =>
      Console.error(`\nup failed: ${e.message}`).pipe(
        Effect.zipRight(Network.netnsExists(demoCluster) ? Effect.flatMap(sampleName, (n) => diagnose(service(), n)) : Effect.void),
        Effect.zipRight(Console.error(`\nthe demo is left running for a look; npm run down stops it`)),
        Effect.ignore,
      ),
    ),
  ),
).pipe(Command.withDescription("local Kubernetes, the operator and the sample Cluster; waits until it is healthy"))

const down = Command.make("down", {}, () =>
  Effect.gen(function* () {
    const lk = service()
    const t0 = Date.now()
    yield* lk.down
    LocalKube.purgeState(lk.paths)
    yield* Console.log(`local Kubernetes "${demoCluster}" down in ${seconds(Date.now() - t0)}, state deleted`)
  }),
).pipe(Command.withDescription("stop everything `up` started and delete its state"))

const psql = Command.make(
  "psql",
  {
    cluster: Args.text({ name: "cluster" }),
    namespace: Options.text("namespace").pipe(Options.withAlias("n"), Options.withDefault(clusterNamespace)),
    args: Args.repeated(Args.text({ name: "psql-args" })),
  },
  ({ cluster, namespace, args }) =>
    Effect.gen(function* () {
      const lk = service()
      if (!Network.netnsExists(demoCluster)) return yield* new DemoError({ message: "the demo is not running; npm run up starts it" })
      const secret = yield* getJson(lk, Progress.Secret, ["get", "secret", `${cluster}-superuser`, "-n", namespace])
      const field = (k: string) => {
        const v = secret.data?.[k]
        return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8")
      }
      const user = field("username")
      const password = field("password")
      if (user === undefined || password === undefined) {
        return yield* new DemoError({ message: `Secret ${cluster}-superuser has no username or password` })
      }
      const rw = `${cluster}-rw`
      const svc = yield* getJson(lk, Progress.Service, ["get", "service", rw, "-n", namespace])
      if (svc.spec.clusterIP === undefined) return yield* new DemoError({ message: `Service ${rw} has no ClusterIP` })
      const argv = Network.inNetns(demoCluster, ["psql", Progress.conninfo(rw, svc.spec.clusterIP, user, "postgres"), ...args])
      const code = yield* Effect.promise(
        () => Bun.spawn(argv, { stdin: "inherit", stdout: "inherit", stderr: "inherit", env: { ...process.env, PGPASSWORD: password } }).exited,
      )
      process.exitCode = code
    }),
).pipe(Command.withDescription("psql as the superuser through CLUSTER-rw, from inside the cluster network"))

const cli = Command.run(Command.make("demo").pipe(Command.withSubcommands([up, down, psql])), {
  name: "demo",
  version: pkg.version,
})

cli(process.argv).pipe(
  Effect.catchTags({
    DemoError: (e) => Console.error(`demo: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))),
    LocalKubeError: (e) => Console.error(`demo: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))),
  }),
  Effect.provide(BunContext.layer),
  BunRuntime.runMain,
)
