/**
 * Where the API server is and how to authenticate: loaded from a kubeconfig file or from
 * the pod's service account, and handed to the client as the `KubeConfig` service.
 * Nothing here reads the environment; `main.ts` passes in what it found.
 */
import { Config, Context, Data, Effect, Layer, Option, Schema } from "effect"
import * as path from "node:path"

/** A failure to find or understand the connection configuration. */
export class KubeConfigError extends Data.TaggedError("KubeConfigError")<{ readonly message: string }> {}

/** A resolved connection: server address, TLS material and a bearer token source. */
export interface Connection {
  /** Base URL, e.g. https://10.240.0.1:6443 */
  readonly server: string
  /** PEM CA bundle that verifies the server; undefined means the system roots. */
  readonly ca: string | undefined
  /** PEM client certificate and key, when authenticating with a certificate. */
  readonly cert: string | undefined
  readonly key: string | undefined
  /** Current bearer token; re-evaluated per request so a rotated token file is picked up. */
  readonly token: Effect.Effect<Option.Option<string>, KubeConfigError>
  readonly insecureSkipTlsVerify: boolean
  readonly tlsServerName: string | undefined
  /** Namespace of the context (or of the pod), "default" when none. */
  readonly namespace: string
}

/** The connection the client uses. */
export class KubeConfig extends Context.Tag("tusk/kube/KubeConfig")<KubeConfig, Connection>() {}

/** Where to look, as `main.ts` found it in flags and environment. */
export interface Sources {
  /** `--kubeconfig` */
  readonly kubeconfig?: string | undefined
  /** `--context` */
  readonly context?: string | undefined
  /** KUBECONFIG (colon-separated list) */
  readonly kubeconfigEnv?: string | undefined
  /** HOME, for ~/.kube/config */
  readonly home?: string | undefined
  /** KUBERNETES_SERVICE_HOST and _PORT, set inside a pod */
  readonly serviceHost?: string | undefined
  readonly servicePort?: string | undefined
  /** Service-account directory (tests point it elsewhere). */
  readonly serviceAccountDir?: string | undefined
}

const NamedCluster = Schema.Struct({
  name: Schema.String,
  cluster: Schema.Struct({
    server: Schema.String,
    "certificate-authority": Schema.optional(Schema.String),
    "certificate-authority-data": Schema.optional(Schema.String),
    "insecure-skip-tls-verify": Schema.optional(Schema.Boolean),
    "tls-server-name": Schema.optional(Schema.String),
  }),
})
const NamedUser = Schema.Struct({
  name: Schema.String,
  user: Schema.optionalWith(
    Schema.Struct({
      "client-certificate": Schema.optional(Schema.String),
      "client-certificate-data": Schema.optional(Schema.String),
      "client-key": Schema.optional(Schema.String),
      "client-key-data": Schema.optional(Schema.String),
      token: Schema.optional(Schema.String),
      tokenFile: Schema.optional(Schema.String),
      exec: Schema.optional(Schema.Unknown),
    }),
    { default: () => ({}) },
  ),
})
const NamedContext = Schema.Struct({
  name: Schema.String,
  context: Schema.Struct({
    cluster: Schema.String,
    user: Schema.optional(Schema.String),
    namespace: Schema.optional(Schema.String),
  }),
})
/** The subset of a kubeconfig file Tusk understands. */
export const KubeconfigFile = Schema.Struct({
  "current-context": Schema.optional(Schema.String),
  clusters: Schema.optionalWith(Schema.NullOr(Schema.Array(NamedCluster)), { default: () => [] }),
  users: Schema.optionalWith(Schema.NullOr(Schema.Array(NamedUser)), { default: () => [] }),
  contexts: Schema.optionalWith(Schema.NullOr(Schema.Array(NamedContext)), { default: () => [] }),
})
export type KubeconfigFile = typeof KubeconfigFile.Type

const readText = (file: string) =>
  Effect.tryPromise({
    try: () => Bun.file(file).text(),
    catch: (e) => new KubeConfigError({ message: `cannot read ${file}: ${String(e)}` }),
  })

const exists = (file: string) => Effect.promise(() => Bun.file(file).exists())

const decodeFile = Schema.decodeUnknown(KubeconfigFile)

/** Parse one kubeconfig file; relative paths in it resolve against its directory. */
export const parseKubeconfig = (text: string, file: string) =>
  Effect.try({
    try: () => Bun.YAML.parse(text),
    catch: (e) => new KubeConfigError({ message: `${file} is not YAML: ${String(e)}` }),
  }).pipe(
    Effect.flatMap(decodeFile),
    Effect.mapError((e) => e._tag === "KubeConfigError" ? e : new KubeConfigError({ message: `${file}: ${e.message}` })),
    Effect.map((k) => resolvePaths(k, path.dirname(file))),
  )

const resolvePaths = (k: KubeconfigFile, dir: string): KubeconfigFile => {
  const abs = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p))
  return {
    ...k,
    clusters: (k.clusters ?? []).map((c) => ({
      ...c,
      cluster: { ...c.cluster, "certificate-authority": abs(c.cluster["certificate-authority"]) },
    })),
    users: (k.users ?? []).map((u) => ({
      ...u,
      user: {
        ...u.user,
        "client-certificate": abs(u.user["client-certificate"]),
        "client-key": abs(u.user["client-key"]),
        tokenFile: abs(u.user.tokenFile),
      },
    })),
  }
}

/** Merge several kubeconfigs as kubectl does: the first file to set a name or the current context wins. */
export const mergeKubeconfigs = (files: ReadonlyArray<KubeconfigFile>): KubeconfigFile => {
  const firstByName = <T extends { readonly name: string }>(lists: ReadonlyArray<ReadonlyArray<T> | null>) => {
    const seen = new Map<string, T>()
    for (const list of lists) for (const item of list ?? []) if (!seen.has(item.name)) seen.set(item.name, item)
    return [...seen.values()]
  }
  const current = files.find((f) => f["current-context"])?.["current-context"]
  return {
    ...(current === undefined ? {} : { "current-context": current }),
    clusters: firstByName(files.map((f) => f.clusters)),
    users: firstByName(files.map((f) => f.users)),
    contexts: firstByName(files.map((f) => f.contexts)),
  }
}

const pemFrom = (data: string | undefined, file: string | undefined) =>
  data !== undefined
    ? Effect.succeed<string | undefined>(Buffer.from(data, "base64").toString("utf8"))
    : file !== undefined
      ? readText(file)
      : Effect.succeed(undefined)

/** Turn a (merged) kubeconfig into a connection, for its current context or the one named. */
export const connectionFromKubeconfig = Effect.fn("KubeConfig.fromKubeconfig")(function* (
  k: KubeconfigFile,
  contextName?: string,
) {
  const name = contextName ?? k["current-context"]
  if (name === undefined) return yield* new KubeConfigError({ message: "kubeconfig has no current-context" })
  const ctx = (k.contexts ?? []).find((c) => c.name === name)
  if (ctx === undefined) return yield* new KubeConfigError({ message: `context ${name} not found in kubeconfig` })
  const cluster = (k.clusters ?? []).find((c) => c.name === ctx.context.cluster)?.cluster
  if (cluster === undefined) {
    return yield* new KubeConfigError({ message: `cluster ${ctx.context.cluster} not found in kubeconfig` })
  }
  const user = (k.users ?? []).find((u) => u.name === ctx.context.user)?.user ?? {}
  if (user.exec !== undefined) {
    return yield* new KubeConfigError({ message: `user ${ctx.context.user}: exec credential plugins are not supported` })
  }
  const ca = yield* pemFrom(cluster["certificate-authority-data"], cluster["certificate-authority"])
  const cert = yield* pemFrom(user["client-certificate-data"], user["client-certificate"])
  const key = yield* pemFrom(user["client-key-data"], user["client-key"])
  const staticToken = user.token
  const tokenFile = user.tokenFile
  const token: Connection["token"] = staticToken !== undefined
    ? Effect.succeed(Option.some(staticToken))
    : tokenFile !== undefined
      ? readText(tokenFile).pipe(Effect.map((t) => Option.some(t.trim())))
      : Effect.succeed(Option.none())
  return {
    server: cluster.server.replace(/\/+$/, ""),
    ca,
    cert,
    key,
    token,
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] ?? false,
    tlsServerName: cluster["tls-server-name"],
    namespace: ctx.context.namespace ?? "default",
  } satisfies Connection
})

/** Load and merge kubeconfig files, then resolve a context. */
export const fromKubeconfigFiles = Effect.fn("KubeConfig.fromFiles")(function* (
  files: ReadonlyArray<string>,
  context?: string,
) {
  const parsed = yield* Effect.forEach(files, (f) => readText(f).pipe(Effect.flatMap((t) => parseKubeconfig(t, f))))
  return yield* connectionFromKubeconfig(mergeKubeconfigs(parsed), context)
})

/** The pod's service account: token (re-read on each use, it rotates), CA and namespace. */
export const inCluster = Effect.fn("KubeConfig.inCluster")(function* (
  host: string,
  port: string,
  dir = "/var/run/secrets/kubernetes.io/serviceaccount",
) {
  const ca = yield* readText(path.join(dir, "ca.crt"))
  const namespace = yield* readText(path.join(dir, "namespace")).pipe(
    Effect.map((s) => s.trim()),
    Effect.orElseSucceed(() => "default"),
  )
  const hostPart = host.includes(":") ? `[${host}]` : host
  return {
    server: `https://${hostPart}:${port}`,
    ca,
    cert: undefined,
    key: undefined,
    token: readText(path.join(dir, "token")).pipe(Effect.map((t) => Option.some(t.trim()))),
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    namespace,
  } satisfies Connection
})

/**
 * Pick the configuration as controller-runtime does: `--kubeconfig`, then KUBECONFIG,
 * then the service account when running in a pod, then ~/.kube/config.
 */
export const resolve = Effect.fn("KubeConfig.resolve")(function* (sources: Sources) {
  if (sources.kubeconfig) return yield* fromKubeconfigFiles([sources.kubeconfig], sources.context)
  const fromEnv = (sources.kubeconfigEnv ?? "").split(path.delimiter).filter((p) => p !== "")
  if (fromEnv.length > 0) {
    const present = yield* Effect.filter(fromEnv, exists)
    if (present.length === 0) return yield* new KubeConfigError({ message: `no file of KUBECONFIG=${sources.kubeconfigEnv} exists` })
    return yield* fromKubeconfigFiles(present, sources.context)
  }
  if (sources.serviceHost && sources.servicePort) {
    return yield* inCluster(sources.serviceHost, sources.servicePort, sources.serviceAccountDir)
  }
  if (sources.home) {
    const home = path.join(sources.home, ".kube", "config")
    if (yield* exists(home)) return yield* fromKubeconfigFiles([home], sources.context)
  }
  return yield* new KubeConfigError({ message: "no kubeconfig found: use --kubeconfig, KUBECONFIG, ~/.kube/config, or run in a pod" })
})

/** What kubectl reads from the environment: KUBECONFIG, HOME, and a pod's service variables. */
const environment = Config.all({
  kubeconfigEnv: Config.option(Config.string("KUBECONFIG")),
  home: Config.option(Config.string("HOME")),
  serviceHost: Config.option(Config.string("KUBERNETES_SERVICE_HOST")),
  servicePort: Config.option(Config.string("KUBERNETES_SERVICE_PORT")),
})

/** Resolve `--kubeconfig`/`--context` together with the environment, through Effect's Config. */
export const resolveFromEnvironment = (flags: {
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
}) =>
  Effect.flatMap(Effect.orDie(environment), (env) =>
    resolve({
      kubeconfig: Option.getOrUndefined(flags.kubeconfig),
      context: Option.getOrUndefined(flags.context),
      kubeconfigEnv: Option.getOrUndefined(env.kubeconfigEnv),
      home: Option.getOrUndefined(env.home),
      serviceHost: Option.getOrUndefined(env.serviceHost),
      servicePort: Option.getOrUndefined(env.servicePort),
    }),
  )

/** The `KubeConfig` service from the sources `main.ts` found. */
export const layer = (sources: Sources): Layer.Layer<KubeConfig, KubeConfigError> =>
  Layer.effect(KubeConfig, resolve(sources))
