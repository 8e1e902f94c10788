/**
 * The CLI of the instance manager: `tusk instance init | join | run | status` and
 * `tusk bootstrap DEST`. Options default to the pod layout; tests point them at temporary
 * directories and loopback ports.
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, Console, Data, Effect, HashMap, Layer, Logger, Option, Schedule, Schema } from "effect"
import { chmod, copyFile, rename } from "node:fs/promises"
import { existsSync, readFileSync } from "node:fs"
import * as JsonLogger from "../kube/JsonLogger.ts"
import * as KubeClient from "../kube/KubeClient.ts"
import * as KubeConfig from "../kube/KubeConfig.ts"
import { buildInfo } from "../Version.ts"
import * as Certificates from "./Certificates.ts"
import * as Clone from "./Clone.ts"
import { certificateFiles } from "./config/FixedParameters.ts"
import type { Endpoint } from "./config/Conninfo.ts"
import * as FileSpecSource from "./FileSpecSource.ts"
import * as Initdb from "./Initdb.ts"
import { InstanceSettings, podDefaults } from "./InstanceSettings.ts"
import * as Manager from "./Manager.ts"
import * as Exporter from "./metrics/Exporter.ts"
import * as KubeSpecSource from "./KubeSpecSource.ts"
import { SpecSource } from "./SpecSource.ts"
import { PgStatus } from "./status/PgStatus.ts"
import * as StatusServer from "./status/StatusServer.ts"
import * as StrayErrors from "./StrayErrors.ts"

class RunningAsRoot extends Data.TaggedError("RunningAsRoot")<{ readonly message: string }> {}
class BadOption extends Data.TaggedError("BadOption")<{ readonly message: string }> {}

const options = {
  instanceName: Options.text("instance-name").pipe(
    Options.withFallbackConfig(Config.string("POD_NAME")),
    Options.withDescription("This instance's name (defaults to $POD_NAME).")
  ),
  pgdata: Options.directory("pgdata").pipe(Options.withDefault(podDefaults.pgdata)),
  socketDir: Options.directory("socket-dir").pipe(Options.withDefault(podDefaults.socketDir)),
  certDir: Options.directory("cert-dir").pipe(Options.withDefault(podDefaults.certDir)),
  binDir: Options.directory("bin-dir").pipe(
    Options.withDescription("Directory of PostgreSQL's binaries."),
    Options.withDefault(podDefaults.binDir)
  ),
  port: Options.integer("port").pipe(Options.withDefault(podDefaults.port)),
  listenAddresses: Options.text("listen-addresses").pipe(Options.withDefault(podDefaults.listenAddresses)),
  httpHost: Options.text("http-host").pipe(Options.withDefault(podDefaults.httpHost)),
  statusPort: Options.integer("status-port").pipe(Options.withDefault(podDefaults.statusPort)),
  metricsPort: Options.integer("metrics-port").pipe(Options.withDefault(podDefaults.metricsPort)),
  peers: Options.keyValueMap("peer").pipe(
    Options.withDescription("name=host:port of another instance (otherwise the primary is reached via the -rw Service)."),
    Options.optional
  ),
  clusterFile: Options.file("cluster-file").pipe(
    Options.withDescription("Read the Cluster from this JSON/YAML file instead of the Kubernetes API."),
    Options.optional
  ),
  objectsDir: Options.directory("objects-dir").pipe(
    Options.withDescription("With --cluster-file: Secrets and ConfigMaps as <dir>/<name>/<key> files."),
    Options.optional
  ),
  clusterName: Options.text("cluster-name").pipe(
    Options.withFallbackConfig(Config.string("CLUSTER_NAME")),
    Options.withDescription("The Cluster this instance belongs to (defaults to $CLUSTER_NAME); read from the Kubernetes API."),
    Options.optional
  ),
  namespace: Options.text("namespace").pipe(
    Options.withFallbackConfig(Config.string("POD_NAMESPACE")),
    Options.withDescription("Namespace of the Cluster (defaults to $POD_NAMESPACE, then the service account's)."),
    Options.optional
  )
}

/** Environment consulted for the in-cluster API connection (through Effect's ConfigProvider). */
const kubeEnvironment = Config.all({
  serviceHost: Config.option(Config.string("KUBERNETES_SERVICE_HOST")),
  servicePort: Config.option(Config.string("KUBERNETES_SERVICE_PORT")),
  kubeconfigEnv: Config.option(Config.string("KUBECONFIG"))
})

/** The Kubernetes-backed spec source: the pod's service account (or KUBECONFIG). */
const kubeSource = (o: Parsed) =>
  Effect.gen(function*() {
    const clusterName = yield* Option.match(o.clusterName, {
      onNone: () => Effect.fail(new BadOption({ message: "pass --cluster-file, or --cluster-name (or $CLUSTER_NAME) to read the Cluster from Kubernetes" })),
      onSome: Effect.succeed
    })
    const env = yield* kubeEnvironment
    const connection = yield* KubeConfig.resolve({
      kubeconfigEnv: Option.getOrUndefined(env.kubeconfigEnv),
      serviceHost: Option.getOrUndefined(env.serviceHost),
      servicePort: Option.getOrUndefined(env.servicePort)
    })
    const namespace = Option.getOrElse(o.namespace, () => connection.namespace)
    return KubeSpecSource.layer({ namespace, clusterName }).pipe(Layer.provide(Layer.succeed(KubeClient.KubeClient, KubeClient.make(connection))))
  })

/** The name of a uid from /etc/passwd (what PostgreSQL's peer authentication sees). */
const osUserName = (uid: number): string => {
  try {
    const entry = readFileSync("/etc/passwd", "utf8").split("\n").map((l) => l.split(":")).find((f) => f[2] === String(uid))
    if (entry?.[0] !== undefined) return entry[0]
  } catch {
    // no passwd file: fall through
  }
  return "postgres"
}

type Parsed = {
  readonly [K in keyof typeof options]: (typeof options)[K] extends Options.Options<infer A> ? A : never
}

const parsePeers = (peers: Option.Option<HashMap.HashMap<string, string>>) =>
  Effect.forEach(Option.match(peers, { onNone: () => [], onSome: (m) => [...HashMap.entries(m)] }), ([name, address]) => {
    const m = /^(.+):(\d+)$/.exec(address)
    return m === null
      ? Effect.fail(new BadOption({ message: `--peer ${name}=${address}: expected host:port` }))
      : Effect.succeed([name, { host: m[1] ?? "", port: Number(m[2]) }] as const)
  }).pipe(Effect.map((entries) => new Map<string, Endpoint>(entries)))

/** The settings and spec source Layers for parsed options; refuses to run as root. */
const layers = (o: Parsed) =>
  Effect.gen(function*() {
    if (process.getuid?.() === 0) {
      return yield* new RunningAsRoot({ message: "the instance manager must run as the postgres user, not as root" })
    }
    const settings = Layer.succeed(InstanceSettings, {
      instanceName: o.instanceName,
      pgdata: o.pgdata,
      socketDir: o.socketDir,
      certDir: o.certDir,
      binDir: o.binDir,
      port: o.port,
      listenAddresses: o.listenAddresses,
      httpHost: o.httpHost,
      statusPort: o.statusPort,
      metricsPort: o.metricsPort,
      peers: yield* parsePeers(o.peers),
      osUser: osUserName(process.getuid?.() ?? -1),
      version: buildInfo.version
    })
    const clusterFile = Option.getOrUndefined(o.clusterFile)
    const source = clusterFile !== undefined
      ? FileSpecSource.layer({ clusterFile, objectsDir: Option.getOrElse(o.objectsDir, () => `${clusterFile}.objects`) })
      : yield* kubeSource(o)
    // runMain installs the pretty logger; the instance logs JSON lines only.
    return Layer.mergeAll(settings, source, JsonLogger.layer, Logger.remove(Logger.prettyLoggerDefault))
  })

const withInstance = <A, E>(o: Parsed, program: Effect.Effect<A, E, InstanceSettings | SpecSource>) =>
  Effect.flatMap(layers(o), (layer) => program.pipe(Effect.annotateLogs("instance", o.instanceName), Effect.provide(layer)))

const init = Command.make("init", options, (o) => withInstance(o, Initdb.init())).pipe(
  Command.withDescription("Create a new PostgreSQL cluster in PGDATA per spec.bootstrap.initdb (idempotent).")
)

const join = Command.make("join", options, (o) => withInstance(o, Clone.join())).pipe(
  Command.withDescription("Clone the current primary into PGDATA with pg_basebackup as a standby (idempotent).")
)

const runProgram = Effect.gen(function*() {
  yield* StrayErrors.guard
  const manager = yield* Manager.start()
  const settings = yield* InstanceSettings
  // The status API serves TLS with the operator's server certificate: wait for it.
  yield* Effect.flatMap(manager.view, (view) => Certificates.write(view, settings.certDir)).pipe(
    Effect.tapError((e) => Effect.logWarning("waiting for certificates", e.message)),
    Effect.retry(Schedule.spaced("1 second"))
  )
  yield* StatusServer.serve(manager)
  yield* Exporter.serve(manager)
  // Closed first: PostgreSQL stops while the status API still reports it.
  yield* Effect.addFinalizer(() => manager.shutdown)
  return yield* Effect.never
}).pipe(Effect.scoped)

const run = Command.make("run", options, (o) => withInstance(o, runProgram)).pipe(
  Command.withDescription("Supervise PostgreSQL: configuration, role changes, status API and metrics, until SIGTERM.")
)

const statusOptions = {
  certDir: options.certDir,
  statusPort: options.statusPort,
  host: Options.text("host").pipe(Options.withDefault("127.0.0.1"))
}

const status = Command.make("status", statusOptions, (o) =>
  Effect.gen(function*() {
    const body = yield* Effect.tryPromise(async () => {
      const response = await fetch(`https://${o.host}:${o.statusPort}/pg/status`, {
        // The server certificate names the Services, not this address: check the CA only.
        tls: { ca: Bun.file(`${o.certDir}/${certificateFiles.ca}`), checkServerIdentity: () => undefined }
      })
      return response.json()
    })
    const decoded = yield* Schema.decodeUnknown(PgStatus)(body)
    yield* Console.log(JSON.stringify(decoded, null, 2))
  })).pipe(Command.withDescription("Print this instance's /pg/status."))

/** `tusk instance ...`. */
export const instanceCommand = Command.make("instance").pipe(
  Command.withDescription("The instance manager: runs PostgreSQL inside an instance pod."),
  Command.withSubcommands([init, join, run, status])
)

/**
 * `tusk bootstrap DEST`: copy the running executable to DEST (the init container fills the
 * shared volume with it). Under `bun run` the executable is bun itself, so only the compiled
 * binary yields a usable copy.
 */
export const bootstrapCommand = Command.make("bootstrap", { dest: Args.path({ name: "DEST" }) }, ({ dest }) =>
  Effect.tryPromise(async () => {
    const tmp = `${dest}.tmp`
    // /proc/self/exe reads the running executable even when its path was replaced since.
    await copyFile(existsSync("/proc/self/exe") ? "/proc/self/exe" : process.execPath, tmp)
    await chmod(tmp, 0o755)
    await rename(tmp, dest)
  }).pipe(Effect.zipRight(Console.log(`copied ${process.execPath} to ${dest}`)))
).pipe(Command.withDescription("Copy this binary to DEST (used by the instance pods' init container)."))
