/**
 * The local Kubernetes control plane as a service: `up` builds (or reuses) the binaries,
 * creates the certificates, the network namespace and the detached component processes;
 * `down` stops them by PID and deletes the namespace; `status`, `exec` and `kubectl`
 * work from inside or outside the namespace.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Context, Data, Duration, Effect, Layer, Schedule } from "effect"
import * as Layout from "../layout.ts"
import { bootstrapObjects, controlPlaneNodeStatus } from "./Bootstrap.ts"
import { componentNames, components, type ComponentName } from "./Components.ts"
import { apiServerUrl, ensureKubeconfig } from "./Kubeconfig.ts"
import { LockTimeout, withLock } from "./Lock.ts"
import * as Network from "./Network.ts"
import { destroyAllSync as destroyPodSandboxes } from "../node/Sandbox.ts"
import * as Pki from "./Pki.ts"
import { exec, run, type CommandFailed, type RunResult } from "./Shell.ts"
import { defaultStateDir, statePaths, type StatePaths } from "./StatePaths.ts"
import * as Supervisor from "./Supervisor.ts"
import { liveUsers } from "./Users.ts"

/** Where a cluster lives and where its binaries come from. */
export interface LocalKubeConfig {
  readonly cluster: string
  readonly stateDir: string
  /** test/localkube/go: holds build.sh and the pinned modules. */
  readonly goDir: string
  /** Overrides the binary cache root (default ~/.cache/tusk-localkube). */
  readonly cacheRoot?: string
}

/** The repository root and the Go build directory, located from this file. */
export const repoRoot = join(import.meta.dir, "..", "..", "..")
export const goDir = join(import.meta.dir, "..", "go")

/** Configuration of a named cluster; `stateDir` overrides <repo>/.localkube/<cluster>. */
export const configFor = (cluster: string, stateDir?: string): LocalKubeConfig => ({
  cluster,
  stateDir: stateDir ?? defaultStateDir(repoRoot, cluster),
  goDir,
})

export class LocalKubeConfigTag extends Context.Tag("localkube/LocalKubeConfig")<LocalKubeConfigTag, LocalKubeConfig>() {}

export class LocalKubeError extends Data.TaggedError("LocalKubeError")<{ readonly message: string }> {}

export interface ComponentStatus {
  readonly name: string
  readonly pid: number
  readonly alive: boolean
  readonly log: string
}

export interface Status {
  readonly cluster: string
  readonly netns: string
  readonly netnsExists: boolean
  readonly components: ReadonlyArray<ComponentStatus>
  readonly apiServerReady: boolean
  readonly kubeconfig: string
  readonly stateDir: string
}

export interface UpResult {
  /** False when a healthy cluster was already running and was reused. */
  readonly started: boolean
  readonly kubeconfig: string
  readonly binDir: string
  /** Milliseconds per phase, in order. */
  readonly timings: ReadonlyArray<readonly [string, number]>
}

/** Files a node agent needs to act as node N: its kubelet serving pair and its API client identity. */
export interface NodeCredentials {
  readonly node: number
  readonly nodeName: string
  readonly address: string
  readonly kubeconfig: string
  readonly caCert: string
  readonly servingCert: string
  readonly servingKey: string
}

export interface ExecOptions {
  readonly stdin?: string
  readonly env?: Record<string, string>
}

export interface LocalKubeService {
  readonly config: LocalKubeConfig
  readonly paths: StatePaths
  readonly netns: string
  /** Starts the cluster, or reuses it when it is already up and healthy. */
  readonly up: Effect.Effect<UpResult, LocalKubeError>
  /** Stops every process by PID, deletes the namespace; keeps the state directory. */
  readonly down: Effect.Effect<void, LocalKubeError>
  /** Runs `down` unless a registered user process (Users.ts) is still alive; true when it did. */
  readonly downIfUnused: Effect.Effect<boolean, LocalKubeError>
  readonly status: Effect.Effect<Status>
  /** The bin directory holding kubectl and the components (builds if needed). */
  readonly binDir: Effect.Effect<string, LocalKubeError>
  /** Runs argv inside the namespace with KUBECONFIG and PATH set; captures output. */
  readonly exec: (argv: ReadonlyArray<string>, options?: ExecOptions) => Effect.Effect<RunResult, LocalKubeError>
  /** Same with inherited stdio; returns the exit code. */
  readonly execInteractive: (argv: ReadonlyArray<string>) => Effect.Effect<number, LocalKubeError>
  /** Runs the built kubectl as admin inside the namespace; fails on a non-zero exit. */
  readonly kubectl: (args: ReadonlyArray<string>, options?: ExecOptions) => Effect.Effect<string, LocalKubeError>
  /** Issues node N's credentials and puts its address on lkhost. */
  readonly nodeCredentials: (n: number) => Effect.Effect<NodeCredentials, LocalKubeError>
}

export class LocalKube extends Context.Tag("localkube/LocalKube")<LocalKube, LocalKubeService>() {}

/** Whether a status shows a complete, ready control plane (then `up` reuses it). */
export const isHealthy = (s: Status): boolean =>
  s.apiServerReady && componentNames.every((n) => s.components.some((c) => c.name === n && c.alive))

/** Stop order: clients together, then the API server, then etcd. */
const stopTiers: ReadonlyArray<ReadonlyArray<ComponentName>> = [
  ["coredns", "kube-proxy", "kube-scheduler", "kube-controller-manager"],
  ["kube-apiserver"],
  ["etcd"],
]

const componentEnv = (binDir: string): Record<string, string> => ({
  PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
})

const toError = (e: CommandFailed | Error) => new LocalKubeError({ message: e.message })

/** A component the wait depends on has exited: waiting longer cannot help. */
class ComponentExited extends Data.TaggedError("ComponentExited")<{ readonly message: string }> {}

/**
 * Polls `check` until it succeeds or the timeout passes; ComponentExited ends the wait
 * at once, any other failure means "try again".
 */
const waitFor = <A, E>(what: string, check: Effect.Effect<A, E>, timeout: Duration.DurationInput) =>
  check.pipe(
    Effect.retry({ schedule: Schedule.spaced("150 millis"), while: (e) => !(e instanceof ComponentExited) }),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new LocalKubeError({ message: `timed out waiting for ${what}` }) }),
    Effect.mapError((e) =>
      e instanceof LocalKubeError ? e : new LocalKubeError({ message: e instanceof ComponentExited ? e.message : `waiting for ${what}: ${String(e)}` }),
    ),
  )

export const make = (config: LocalKubeConfig): LocalKubeService => {
  const paths = statePaths(config.stateDir)
  const netns = Layout.clusterNetns(config.cluster)
  const specs = components(paths)

  const binDir = Effect.gen(function* () {
    const env = { ...process.env, ...(config.cacheRoot === undefined ? {} : { LOCALKUBE_CACHE: config.cacheRoot }) }
    // Build progress goes straight to our stderr: a cold build takes many minutes.
    const out = yield* Effect.tryPromise({
      try: async () => {
        const proc = Bun.spawn(["bash", join(config.goDir, "build.sh")], { env, stdin: "ignore", stdout: "pipe", stderr: "inherit" })
        const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
        if (code !== 0) throw new Error(`build.sh exited ${code}`)
        return stdout
      },
      catch: (e) => new LocalKubeError({ message: `building the Kubernetes binaries: ${String(e)}` }),
    })
    const dir = out.trim().split("\n").at(-1)
    if (dir === undefined || dir === "") return yield* new LocalKubeError({ message: "build.sh printed no bin directory" })
    return dir
  }).pipe(Effect.withSpan("LocalKube.binDir"), Effect.cached, Effect.runSync)

  const wrap = (argv: ReadonlyArray<string>): Array<string> =>
    Network.insideNetns(config.cluster) ? [...argv] : Network.inNetns(config.cluster, argv)

  const execEnv = (bin: string, extra: Record<string, string> = {}) => ({
    ...process.env,
    ...extra,
    KUBECONFIG: paths.adminKubeconfig,
    PATH: `${bin}:${process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
  })

  const execIn = Effect.fn("LocalKube.exec")(function* (argv: ReadonlyArray<string>, options: ExecOptions = {}) {
    const bin = yield* binDir
    if (!Network.netnsExists(config.cluster)) return yield* new LocalKubeError({ message: `${netns} does not exist; run up first` })
    return yield* exec(wrap(argv), {
      env: execEnv(bin, options.env),
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    }).pipe(Effect.mapError(toError))
  })

  const kubectl = Effect.fn("LocalKube.kubectl")(function* (args: ReadonlyArray<string>, options: ExecOptions = {}) {
    const bin = yield* binDir
    const argv = [join(bin, "kubectl"), `--kubeconfig=${paths.adminKubeconfig}`, ...args]
    const r = yield* execIn(argv, options)
    if (r.exitCode !== 0) {
      return yield* new LocalKubeError({ message: `kubectl ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.trim()}` })
    }
    return r.stdout
  })

  const execInteractive = Effect.fn("LocalKube.execInteractive")(function* (argv: ReadonlyArray<string>) {
    const bin = yield* binDir
    if (!Network.netnsExists(config.cluster)) return yield* new LocalKubeError({ message: `${netns} does not exist; run up first` })
    return yield* Effect.tryPromise({
      try: () =>
        Bun.spawn(wrap(argv), { stdin: "inherit", stdout: "inherit", stderr: "inherit", env: execEnv(bin) }).exited,
      catch: (e) => new LocalKubeError({ message: `exec ${argv.join(" ")}: ${String(e)}` }),
    })
  })

  const apiServerReady = kubectl(["get", "--raw", "/readyz"], {}).pipe(
    Effect.timeout("5 seconds"),
    Effect.as(true),
    Effect.orElseSucceed(() => false),
  )

  const status = Effect.gen(function* () {
    const records = Supervisor.readPidDir(paths.pids)
    const comps = records.map(({ name, record }) => ({
      name,
      pid: record.pid,
      alive: Supervisor.isAlive(record),
      log: paths.log(name),
    }))
    const exists = Network.netnsExists(config.cluster)
    return {
      cluster: config.cluster,
      netns,
      netnsExists: exists,
      components: comps,
      apiServerReady: exists && comps.length > 0 ? yield* apiServerReady : false,
      kubeconfig: paths.adminKubeconfig,
      stateDir: paths.root,
    }
  }).pipe(Effect.withSpan("LocalKube.status"))

  const stopProcesses = Effect.sync(() => {
    Supervisor.stopPidDirSync(paths.pids, stopTiers, 10_000)
  })

  /** Anything else still in the namespace was started there by our tools (node agents): stop it too. */
  const stopStrays = Effect.sync(() => {
    const keep = Supervisor.ancestors()
    const strays = Network.netnsPids(config.cluster).filter((p) => !keep.has(p))
    Supervisor.stopPidsSync(Supervisor.recordsOf(strays), 5_000)
  })

  const locked = <A, E>(timeout: Duration.DurationInput, effect: Effect.Effect<A, E>) =>
    Effect.sync(() => mkdirSync(paths.root, { recursive: true })).pipe(
      Effect.zipRight(withLock(paths.lock, timeout, effect)),
      Effect.mapError((e) => (e instanceof LockTimeout ? new LocalKubeError({ message: e.message }) : e)),
    )

  const stop = Effect.gen(function* () {
    yield* stopProcesses
    yield* stopStrays
    // Pods live in their own namespaces: whatever node agents left behind goes too.
    yield* Effect.sync(() => destroyPodSandboxes(paths.root))
    yield* Effect.try({ try: () => Network.deleteNetnsSync(config.cluster), catch: (e) => new LocalKubeError({ message: String(e) }) })
  })

  const down = locked("2 minutes", stop).pipe(Effect.withSpan("LocalKube.down"))

  const downIfUnused = locked(
    "2 minutes",
    Effect.suspend(() => (liveUsers(paths.users).length > 0 ? Effect.succeed(false) : Effect.as(stop, true))),
  ).pipe(Effect.withSpan("LocalKube.downIfUnused"))

  const credentials = Effect.gen(function* () {
    for (const dir of [paths.root, paths.logs, paths.pids]) mkdirSync(dir, { recursive: true })
    mkdirSync(paths.config, { recursive: true, mode: 0o700 })
    yield* Pki.ensureCa(paths)
    yield* Pki.ensureServiceAccountKey(paths)
    yield* Pki.ensureCert(paths, Pki.apiServerCert)
    yield* Effect.forEach(Object.values(Pki.clientCerts), (req) => Pki.ensureCert(paths, req), { concurrency: 4 })
    yield* ensureKubeconfig(
      paths.adminKubeconfig,
      paths.caCert,
      { cert: paths.cert("admin"), key: paths.key("admin") },
      Pki.clientCerts.admin.commonName,
    )
    const kubeconfigs = {
      "controller-manager": Pki.clientCerts.controllerManager,
      scheduler: Pki.clientCerts.scheduler,
      "kube-proxy": Pki.clientCerts.kubeProxy,
      coredns: Pki.clientCerts.coredns,
    }
    for (const [file, req] of Object.entries(kubeconfigs)) {
      yield* ensureKubeconfig(paths.kubeconfig(file), paths.caCert, { cert: paths.cert(req.name), key: paths.key(req.name) }, req.commonName)
    }
  }).pipe(Effect.mapError(toError), Effect.withSpan("LocalKube.credentials"))

  const start = (bin: string, name: ComponentName) =>
    Effect.gen(function* () {
      const spec = specs.find((c) => c.name === name)
      if (spec === undefined) return yield* Effect.die(new Error(`unknown component ${name}`))
      for (const f of spec.files) writeFileSync(f.path, f.content)
      writeFileSync(paths.log(name), `--- started ${new Date().toISOString()}\n`, { flag: "a" })
      return yield* Supervisor.spawnDetached({
        cluster: config.cluster,
        argv: [join(bin, spec.binary), ...spec.args],
        logFile: paths.log(name),
        pidFile: paths.pidFile(name),
        env: componentEnv(bin),
      })
    })

  /** Fails fast when a started component has died, naming its log. */
  const ensureAlive = (names: ReadonlyArray<ComponentName>) =>
    Effect.suspend(() => {
      const dead = names.filter((n) => {
        const rec = Supervisor.readPidFile(paths.pidFile(n))
        return rec === undefined || !Supervisor.isAlive(rec)
      })
      return dead.length === 0
        ? Effect.void
        : Effect.fail(new ComponentExited({ message: `${dead.join(", ")} exited; see ${dead.map((d) => paths.log(d)).join(", ")}` }))
    })

  /** Waits for `check` while the named components stay alive; a dead component ends the wait at once. */
  const waitWhileAlive = <A, E>(
    what: string,
    names: ReadonlyArray<ComponentName>,
    check: Effect.Effect<A, E>,
    timeout: Duration.DurationInput,
  ) => waitFor(what, Effect.zipRight(ensureAlive(names), check), timeout)

  const tcpOpen = (address: string, port: number) =>
    run(wrap(["bash", "-c", `exec 3<>/dev/tcp/${address}/${port}`]))

  const dnsAnswers = (server: string) =>
    run(wrap(["dig", `@${server}`, "+short", "+time=1", "+tries=1", `kubernetes.default.svc.${Layout.clusterDomain}`])).pipe(
      Effect.filterOrFail((out) => out.trim() === Layout.apiServerServiceIp, () => "no answer" as const),
    )

  const startAll = Effect.gen(function* () {
    const timings: Array<readonly [string, number]> = []
    let t = Date.now()
    const phase = <A, E, R>(name: string, e: Effect.Effect<A, E, R>) =>
      Effect.tap(e, () =>
        Effect.sync(() => {
          const now = Date.now()
          timings.push([name, now - t])
          t = now
        }),
      )

    const bin = yield* phase("binaries", binDir)
    // Leftovers of a crashed or half-started cluster go first; etcd data and certificates stay.
    yield* stopProcesses
    yield* phase("certificates", credentials)
    yield* phase("netns", Network.ensureNetns(config.cluster).pipe(Effect.mapError(toError)))
    yield* start(bin, "etcd")
    yield* phase("etcd", waitWhileAlive("etcd", ["etcd"], tcpOpen("127.0.0.1", Layout.ports.etcdClient), "30 seconds"))
    yield* start(bin, "kube-apiserver")
    yield* phase("kube-apiserver", waitWhileAlive("kube-apiserver /readyz", ["etcd", "kube-apiserver"], kubectl(["get", "--raw", "/readyz"]), "60 seconds"))
    yield* kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=localkube", "-f", "-"], {
      stdin: JSON.stringify(bootstrapObjects()),
    })
    yield* kubectl(["patch", "node", Layout.controlPlaneNodeName, "--subresource=status", "--type=merge", "-p", JSON.stringify(controlPlaneNodeStatus())])
    // The rest only need the API server; they start together.
    yield* Effect.forEach(componentNames.slice(2), (n) => start(bin, n), { discard: true })
    const all = componentNames
    yield* phase(
      "controllers",
      waitWhileAlive("the default ServiceAccount", all, kubectl(["get", "serviceaccount", "default", "-n", "default", "-o", "name"]), "60 seconds"),
    )
    yield* phase("dns", waitWhileAlive("CoreDNS through the kube-dns ClusterIP", all, dnsAnswers(Layout.dnsServiceIp), "60 seconds"))
    return timings
  })

  const up = Effect.gen(function* () {
    // Build outside the lock: a cold build must not look like a hung lock holder to others.
    const bin = yield* binDir
    return yield* locked(
      "5 minutes",
      Effect.gen(function* () {
        if (isHealthy(yield* status)) return { started: false, kubeconfig: paths.adminKubeconfig, binDir: bin, timings: [] }
        const timings = yield* startAll
        return { started: true, kubeconfig: paths.adminKubeconfig, binDir: bin, timings }
      }),
    )
  }).pipe(Effect.withSpan("LocalKube.up"))

  const nodeCredentials = Effect.fn("LocalKube.nodeCredentials")(function* (n: number) {
    yield* credentials
    const serving = yield* Pki.ensureCert(paths, Pki.kubeletServingCert(n)).pipe(Effect.mapError(toError))
    const client = yield* Pki.ensureCert(paths, Pki.nodeClientCert(n)).pipe(Effect.mapError(toError))
    const kubeconfig = yield* ensureKubeconfig(paths.kubeconfig(`node-${n}`), paths.caCert, client, Pki.nodeClientCert(n).commonName)
    yield* Network.addNodeAddress(config.cluster, n).pipe(Effect.mapError(toError))
    return {
      node: n,
      nodeName: Layout.nodeName(n),
      address: Layout.nodeAddress(n),
      kubeconfig,
      caCert: paths.caCert,
      servingCert: serving.cert,
      servingKey: serving.key,
    }
  })

  return {
    config,
    paths,
    netns,
    up,
    down,
    downIfUnused,
    status,
    binDir,
    exec: execIn,
    execInteractive,
    kubectl,
    nodeCredentials,
  }
}

/** Layer of the service from its configuration. */
export const layer: Layer.Layer<LocalKube, never, LocalKubeConfigTag> = Layer.effect(
  LocalKube,
  Effect.map(LocalKubeConfigTag, make),
)

/** Removes the whole state directory (certificates, etcd data, logs); the cluster must be down. */
export const purgeState = (paths: StatePaths): void => rmSync(paths.root, { recursive: true, force: true })

export { apiServerUrl }
