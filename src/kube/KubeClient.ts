/**
 * A small typed Kubernetes client over Bun's fetch with explicit TLS (CA, client
 * certificate, bearer token). Generic over kinds through `Resource` descriptors; every
 * failure is a `KubeError` decoded from the API's Status.
 */
import { Context, Duration, Effect, Layer, Metric, Option, Schedule, Schema, Stream } from "effect"
import { KubeConfig, type Connection } from "./KubeConfig.ts"
import * as KubeError from "./KubeError.ts"
import { ListMeta, type KubeObject } from "./ObjectMeta.ts"
import * as Resource from "./Resource.ts"
import * as WatchEvent from "./WatchEvent.ts"

/** Field manager of every server-side apply Tusk makes. */
export const fieldManager = "tusk"

type Query = Readonly<Record<string, string | number | boolean | undefined>>

/** A raw request to the API server. */
export interface RawRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly query?: Query | undefined
  readonly body?: unknown
  readonly contentType?: string | undefined
  readonly accept?: string | undefined
  /** Whole-request deadline; watches pass none and rely on `idleTimeout`. */
  readonly timeout?: Duration.Duration | undefined
  /** Socket idle limit for this request (Bun's default is 5 minutes). */
  readonly idleTimeout?: Duration.Duration | undefined
}

/** Where an object is. */
export interface At {
  readonly namespace?: string | undefined
}

/** Options of a list call. */
export interface ListOptions extends At {
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly limit?: number | undefined
  readonly continue?: string | undefined
  readonly resourceVersion?: string | undefined
}

/** One page of a list. */
export interface ListPage<A> {
  readonly items: ReadonlyArray<A>
  readonly resourceVersion: string
  readonly continue: string | undefined
}

/** Options of a watch call. */
export interface WatchOptions extends At {
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly resourceVersion: string
  readonly timeoutSeconds: number
  readonly allowWatchBookmarks?: boolean | undefined
}

/** metav1.DeleteOptions, the parts Tusk uses. */
export interface DeleteOptions extends At {
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan" | undefined
  readonly gracePeriodSeconds?: number | undefined
}

/** A patch body: RFC 7386 merge patch or RFC 6902 JSON patch. */
export type Patch =
  | { readonly type: "merge"; readonly patch: unknown }
  | {
    readonly type: "json"
    readonly patch: ReadonlyArray<{ readonly op: string; readonly path: string; readonly value?: unknown; readonly from?: string }>
  }

/** What apply and patch may target. */
export interface WriteOptions extends At {
  readonly subresource?: "status" | undefined
  readonly dryRun?: boolean | undefined
}

/** The body of a server-side apply: the fields Tusk owns, with name (and namespace). */
export interface ApplyConfiguration {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown }
  readonly [k: string]: unknown
}

/** An answer from a pod through the API server's proxy. */
export interface ProxyResponse {
  readonly status: number
  readonly body: string
}

/** The client. */
export interface Client {
  /** The connection in use (server, default namespace). */
  readonly connection: Connection
  /** Send any request; error answers fail with their KubeError. */
  readonly raw: (req: RawRequest) => Effect.Effect<Response, KubeError.KubeError>
  readonly get: <A extends KubeObject, I>(r: Resource.Resource<A, I>, name: string, at?: At & { readonly subresource?: string | undefined }) => Effect.Effect<A, KubeError.KubeError>
  /** One page of a list. */
  readonly listPage: <A extends KubeObject, I>(r: Resource.Resource<A, I>, opts?: ListOptions) => Effect.Effect<ListPage<A>, KubeError.KubeError>
  /** All pages of a list (limit/continue), with the resourceVersion of the first page. */
  readonly list: <A extends KubeObject, I>(r: Resource.Resource<A, I>, opts?: ListOptions) => Effect.Effect<ListPage<A>, KubeError.KubeError>
  readonly create: <A extends KubeObject, I>(r: Resource.Resource<A, I>, obj: A, at?: At) => Effect.Effect<A, KubeError.KubeError>
  /** PUT the whole object (or its status); its resourceVersion guards against lost updates. */
  readonly replace: <A extends KubeObject, I>(r: Resource.Resource<A, I>, obj: A, opts?: WriteOptions) => Effect.Effect<A, KubeError.KubeError>
  readonly delete: <A extends KubeObject, I>(r: Resource.Resource<A, I>, name: string, opts?: DeleteOptions) => Effect.Effect<void, KubeError.KubeError>
  /** Server-side apply with field manager `tusk`, forcing ownership of the fields sent. */
  readonly apply: <A extends KubeObject, I>(r: Resource.Resource<A, I>, obj: ApplyConfiguration, opts?: WriteOptions & { readonly force?: boolean }) => Effect.Effect<A, KubeError.KubeError>
  readonly patch: <A extends KubeObject, I>(r: Resource.Resource<A, I>, name: string, patch: Patch, opts?: WriteOptions) => Effect.Effect<A, KubeError.KubeError>
  /** Get, change and PUT back, retrying the whole round on Conflict. */
  readonly update: <A extends KubeObject, I>(r: Resource.Resource<A, I>, name: string, change: (a: A) => A, opts?: WriteOptions) => Effect.Effect<A, KubeError.KubeError>
  /** Evict a pod (policy/v1); a PDB refusal fails with Unavailable code 429. */
  readonly evict: (namespace: string, pod: string, opts?: Omit<DeleteOptions, "namespace">) => Effect.Effect<void, KubeError.KubeError>
  /** GET a path on a pod through /api/v1/namespaces/N/pods/SCHEME:NAME:PORT/proxy/PATH. */
  readonly proxyGet: (namespace: string, pod: string, path: string, opts?: { readonly scheme?: "http" | "https"; readonly port?: number; readonly timeout?: Duration.Duration }) => Effect.Effect<ProxyResponse, KubeError.KubeError>
  /** A watch: events until the server ends it (timeoutSeconds) or an error (ERROR events fail it). */
  readonly watch: <A extends KubeObject, I>(r: Resource.Resource<A, I>, opts: WatchOptions) => Stream.Stream<WatchEvent.WatchEvent<A>, KubeError.KubeError>
}

/** The Kubernetes client service. */
export class KubeClient extends Context.Tag("tusk/kube/KubeClient")<KubeClient, Client>() {}

const defaultTimeout = Duration.seconds(30)

const requestsTotal = Metric.counter("rest_client_requests_total", {
  description: "Requests to the API server by method and code (watch for streamed watches)",
  incremental: true,
})
const countRequest = (method: string, code: string) =>
  Metric.increment(Metric.tagged(Metric.tagged(requestsTotal, "method", method), "code", code))

const urlOf = (server: string, path: string, query: Query | undefined) => {
  const url = new URL(server + path)
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
  return url
}

const errorFromResponse = (res: Response) =>
  Effect.promise(() => res.text()).pipe(
    Effect.map((text) => {
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not a Status (a proxy or load balancer answered): keep the text as the message
      }
      const err = KubeError.fromStatus(res.status, body, res.headers.get("retry-after"))
      return typeof body === "string" && body !== "" && err.message === `HTTP ${res.status}`
        ? KubeError.fromStatus(res.status, { message: body.slice(0, 500) }, res.headers.get("retry-after"))
        : err
    }),
  )

const decodeBody = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(schema)
  return (res: Response): Effect.Effect<A, KubeError.KubeError> =>
    Effect.tryPromise({
      try: () => res.json() as Promise<unknown>,
      catch: (e) => new KubeError.Malformed({ message: `response is not JSON: ${String(e)}` }),
    }).pipe(
      Effect.flatMap(decode),
      Effect.mapError((e) => (e._tag === "ParseError" ? new KubeError.Malformed({ message: e.message }) : e)),
    )
}

const listSchema = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ metadata: Schema.optionalWith(ListMeta, { default: () => ({}) }), items: Schema.NullOr(Schema.Array(item)) })

/** Build the client for a connection. */
export const make = (connection: Connection): Client => {
  const tls = {
    ...(connection.ca === undefined ? {} : { ca: connection.ca }),
    ...(connection.cert === undefined ? {} : { cert: connection.cert }),
    ...(connection.key === undefined ? {} : { key: connection.key }),
    ...(connection.tlsServerName === undefined ? {} : { serverName: connection.tlsServerName }),
    rejectUnauthorized: !connection.insecureSkipTlsVerify,
  }

  const send = (req: RawRequest) =>
    Effect.gen(function* () {
      // A token file briefly missing during rotation is a transient failure, not a bug.
      const token = yield* Effect.mapError(connection.token, (e) => KubeError.fromNetwork(new Error(e.message)))
      const headers: Record<string, string> = { Accept: req.accept ?? "application/json", "User-Agent": "tusk" }
      if (Option.isSome(token)) headers.Authorization = `Bearer ${token.value}`
      if (req.body !== undefined) headers["Content-Type"] = req.contentType ?? "application/json"
      const url = urlOf(connection.server, req.path, req.query)
      const idle = req.idleTimeout === undefined ? {} : { timeout: Duration.toMillis(req.idleTimeout) }
      const method = req.query?.watch === true ? "WATCH" : req.method
      return yield* Effect.tryPromise({
        try: (signal) =>
          fetch(url, {
            method: req.method,
            headers,
            ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
            signal: req.timeout === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(Duration.toMillis(req.timeout))]),
            tls,
            ...idle,
          }),
        catch: KubeError.fromNetwork,
      }).pipe(
        Effect.tap((res) => countRequest(method, String(res.status))),
        Effect.tapError(() => countRequest(method, "error")),
      )
    })

  const raw = (req: RawRequest) =>
    send({ ...req, timeout: req.timeout ?? defaultTimeout }).pipe(
      Effect.flatMap((res) => (res.ok ? Effect.succeed(res) : Effect.flatMap(errorFromResponse(res), Effect.fail))),
    )

  const objectPath = (r: Resource.ResourceInfo, name: string, at: { readonly namespace?: string | undefined; readonly subresource?: string | undefined } | undefined) =>
    Resource.path(r, { namespace: at?.namespace ?? connection.namespace, name, subresource: at?.subresource })

  const metaOf = (obj: KubeObject) => ({ name: obj.metadata.name ?? "", namespace: obj.metadata.namespace })

  const encode = <A, I>(schema: Schema.Schema<A, I>, obj: A) =>
    Schema.encode(schema)(obj).pipe(Effect.mapError((e) => new KubeError.Malformed({ message: e.message })))

  const get: Client["get"] = (r, name, at) =>
    raw({ method: "GET", path: objectPath(r, name, at) }).pipe(Effect.flatMap(decodeBody(r.schema)), Effect.withSpan("KubeClient.get"))

  const listPage: Client["listPage"] = (r, opts) =>
    raw({
      method: "GET",
      path: Resource.path(r, { namespace: opts?.namespace }),
      query: {
        labelSelector: opts?.labelSelector,
        fieldSelector: opts?.fieldSelector,
        limit: opts?.limit,
        continue: opts?.continue,
        resourceVersion: opts?.resourceVersion,
      },
      timeout: Duration.minutes(1),
    }).pipe(
      Effect.flatMap(decodeBody(listSchema(r.schema))),
      Effect.map((l) => ({ items: l.items ?? [], resourceVersion: l.metadata.resourceVersion ?? "", continue: l.metadata.continue || undefined })),
      Effect.withSpan("KubeClient.listPage"),
    )

  const list: Client["list"] = (r, opts) =>
    Effect.gen(function* () {
      const first = yield* listPage(r, { limit: 500, ...opts })
      const items = [...first.items]
      let token = first.continue
      while (token !== undefined) {
        const page = yield* listPage(r, { limit: 500, ...opts, continue: token, resourceVersion: undefined })
        items.push(...page.items)
        token = page.continue
      }
      return { items, resourceVersion: first.resourceVersion, continue: undefined }
    }).pipe(Effect.withSpan("KubeClient.list"))

  const create: Client["create"] = (r, obj, at) =>
    encode(r.schema, obj).pipe(
      Effect.flatMap((body) =>
        raw({
          method: "POST",
          path: Resource.path(r, { namespace: at?.namespace ?? obj.metadata.namespace ?? connection.namespace }),
          body: { apiVersion: Resource.apiVersion(r), kind: r.kind, ...(body as object) },
        })
      ),
      Effect.flatMap(decodeBody(r.schema)),
      Effect.withSpan("KubeClient.create"),
    )

  const replace: Client["replace"] = (r, obj, opts) =>
    encode(r.schema, obj).pipe(
      Effect.flatMap((body) => {
        const m = metaOf(obj)
        return raw({
          method: "PUT",
          path: objectPath(r, m.name, { namespace: opts?.namespace ?? m.namespace, subresource: opts?.subresource }),
          query: { dryRun: opts?.dryRun ? "All" : undefined },
          body: { apiVersion: Resource.apiVersion(r), kind: r.kind, ...(body as object) },
        })
      }),
      Effect.flatMap(decodeBody(r.schema)),
      Effect.withSpan("KubeClient.replace"),
    )

  const del: Client["delete"] = (r, name, opts) =>
    raw({
      method: "DELETE",
      path: objectPath(r, name, opts),
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(opts?.preconditions === undefined ? {} : { preconditions: opts.preconditions }),
        ...(opts?.propagationPolicy === undefined ? {} : { propagationPolicy: opts.propagationPolicy }),
        ...(opts?.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }),
      },
    }).pipe(
      Effect.flatMap((res) => Effect.promise(() => res.arrayBuffer())),
      Effect.asVoid,
      Effect.withSpan("KubeClient.delete"),
    )

  const apply: Client["apply"] = (r, obj, opts) =>
    raw({
      method: "PATCH",
      path: objectPath(r, obj.metadata.name, { namespace: opts?.namespace ?? obj.metadata.namespace, subresource: opts?.subresource }),
      query: { fieldManager, force: opts?.force ?? true, dryRun: opts?.dryRun ? "All" : undefined },
      // JSON is YAML, so the apply body can be sent as JSON under the YAML content type.
      contentType: "application/apply-patch+yaml",
      body: { apiVersion: Resource.apiVersion(r), kind: r.kind, ...obj },
    }).pipe(Effect.flatMap(decodeBody(r.schema)), Effect.withSpan("KubeClient.apply"))

  const patch: Client["patch"] = (r, name, p, opts) =>
    raw({
      method: "PATCH",
      path: objectPath(r, name, opts),
      query: { fieldManager, dryRun: opts?.dryRun ? "All" : undefined },
      contentType: p.type === "merge" ? "application/merge-patch+json" : "application/json-patch+json",
      body: p.patch,
    }).pipe(Effect.flatMap(decodeBody(r.schema)), Effect.withSpan("KubeClient.patch"))

  const update: Client["update"] = (r, name, change, opts) =>
    get(r, name, opts).pipe(
      Effect.flatMap((current) => replace(r, change(current), opts)),
      Effect.retry({
        while: (e) => e._tag === "Conflict",
        schedule: Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(5))),
      }),
      Effect.withSpan("KubeClient.update"),
    )

  const evict: Client["evict"] = (namespace, pod, opts) =>
    raw({
      method: "POST",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/eviction`,
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: pod, namespace },
        ...(opts === undefined ? {} : { deleteOptions: { ...opts } }),
      },
    }).pipe(
      Effect.flatMap((res) => Effect.promise(() => res.arrayBuffer())),
      Effect.asVoid,
      Effect.withSpan("KubeClient.evict"),
    )

  const proxyGet: Client["proxyGet"] = (namespace, pod, path, opts) =>
    send({
      method: "GET",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${opts?.scheme ?? "https"}:${encodeURIComponent(pod)}:${opts?.port ?? 8000}/proxy/${path.replace(/^\/+/, "")}`,
      accept: "*/*",
      timeout: opts?.timeout ?? Duration.seconds(5),
    }).pipe(
      Effect.flatMap((res) => Effect.promise(() => res.text()).pipe(Effect.map((body) => ({ status: res.status, body })))),
      Effect.withSpan("KubeClient.proxyGet"),
    )

  const watch: Client["watch"] = (r, opts) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        const res = yield* Effect.acquireRelease(
          send({
            method: "GET",
            path: Resource.path(r, { namespace: opts.namespace }),
            query: {
              watch: true,
              resourceVersion: opts.resourceVersion,
              timeoutSeconds: opts.timeoutSeconds,
              allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
              labelSelector: opts.labelSelector,
              fieldSelector: opts.fieldSelector,
            },
            // Bun's idle timer is a safety net behind the server's own timeout.
            idleTimeout: Duration.seconds(opts.timeoutSeconds + 30),
          }),
          (res) => Effect.sync(() => void res.body?.cancel().catch(() => undefined)),
        )
        if (!res.ok) return yield* Effect.flatMap(errorFromResponse(res), Effect.fail)
        const body = res.body
        if (body === null) return Stream.empty
        return Stream.fromReadableStream({ evaluate: () => body, onError: KubeError.fromNetwork }).pipe(
          WatchEvent.decodeStream(r.schema),
        )
      }),
    )

  return { connection, raw, get, listPage, list, create, replace, delete: del, apply, patch, update, evict, proxyGet, watch }
}

/** The client from the `KubeConfig` service. */
export const layer: Layer.Layer<KubeClient, never, KubeConfig> = Layer.effect(KubeClient, Effect.map(KubeConfig, make))
