/**
 * A small Kubernetes API client for the node agent: JSON requests and watches over
 * Bun's fetch with the kubeconfig's CA and client certificate.
 */
import { Context, Data, Effect, Layer, Schedule, Schema, Stream } from "effect"
import { List, WatchEvent } from "./Objects.ts"

export class KubeError extends Data.TaggedError("KubeError")<{
  readonly status: number
  readonly reason: string
  readonly message: string
}> {}

/**
 * Retries a request while the API server is away (restarting, overloaded), as the kubelet's
 * status manager keeps trying: a pod's final DELETE that fails once would otherwise leave
 * the pod Terminating for good, since nothing about it changes to bring it back.
 */
export const retryWhileUnavailable = <A, R>(request: Effect.Effect<A, KubeError, R>): Effect.Effect<A, KubeError, R> =>
  request.pipe(
    Effect.retry({
      // 403 too: a kube-apiserver that has just started refuses a node its own pods until its
      // node authorizer has caught up.
      while: (e) => e.status === 0 || e.status === 403 || e.status === 429 || e.status >= 500,
      schedule: Schedule.spaced("1 second").pipe(Schedule.upTo("5 minutes")),
    }),
  )

export interface Credentials {
  readonly server: string
  readonly ca: string
  readonly cert: string
  readonly key: string
}

const Kubeconfig = Schema.parseJson(
  Schema.Struct({
    clusters: Schema.Array(Schema.Struct({ cluster: Schema.Struct({ server: Schema.String, "certificate-authority-data": Schema.String }) })),
    users: Schema.Array(
      Schema.Struct({ user: Schema.Struct({ "client-certificate-data": Schema.String, "client-key-data": Schema.String }) }),
    ),
  }),
)

const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8")

/** Reads a kubeconfig with embedded certificates (as the control plane writes them, JSON). */
export const credentialsFromKubeconfig = (text: string): Credentials => {
  const kc = Schema.decodeUnknownSync(Kubeconfig)(text)
  const cluster = kc.clusters[0]?.cluster
  const user = kc.users[0]?.user
  if (cluster === undefined || user === undefined) throw new Error("kubeconfig has no cluster or user")
  return {
    server: cluster.server,
    ca: b64(cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
  }
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

export interface RequestOptions {
  readonly body?: unknown
  /** Content type of a PATCH body; JSON merge patch by default. */
  readonly patch?: "merge" | "strategic" | "apply"
}

export interface WatchEventOf {
  readonly type: string
  readonly object: unknown
}

export interface KubeClientService {
  readonly request: (method: Method, path: string, options?: RequestOptions) => Effect.Effect<unknown, KubeError>
  /** List then watch from the list's resourceVersion, relisting whenever the watch ends; "SYNC" marks each relist. */
  readonly listWatch: (path: string, query: string) => Stream.Stream<WatchEventOf, KubeError>
}

export class KubeClient extends Context.Tag("localkube/node/KubeClient")<KubeClient, KubeClientService>() {}

const contentTypes = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const

const Status = Schema.Struct({ reason: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

export const make = (creds: Credentials): KubeClientService => {
  const tls = { ca: creds.ca, cert: creds.cert, key: creds.key }
  const doFetch = (path: string, init: RequestInit = {}) => fetch(`${creds.server}${path}`, { ...init, tls } as RequestInit)

  const request = (method: Method, path: string, options: RequestOptions = {}) =>
    Effect.tryPromise({
      try: async (signal) => {
        const headers: Record<string, string> = { accept: "application/json" }
        if (options.body !== undefined) headers["content-type"] = method === "PATCH" ? contentTypes[options.patch ?? "merge"] : "application/json"
        const res = await doFetch(path, {
          method,
          headers,
          signal,
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        })
        const text = await res.text()
        const json: unknown = text === "" ? {} : JSON.parse(text)
        return { status: res.status, json }
      },
      catch: (e) => new KubeError({ status: 0, reason: "Network", message: `${method} ${path}: ${String(e)}` }),
    }).pipe(
      // An API server shutting down or starting may take a request and never answer it; a
      // lease renewal stuck for good would leave the node NotReady (and its pods evicted).
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new KubeError({ status: 0, reason: "Timeout", message: `${method} ${path}: no answer within 10 s` }) }),
      Effect.flatMap(({ status, json }) => {
        if (status < 300) return Effect.succeed(json)
        const s = Schema.decodeUnknownOption(Status)(json)
        const st = s._tag === "Some" ? s.value : {}
        return Effect.fail(
          new KubeError({ status, reason: st.reason ?? String(status), message: `${method} ${path}: ${st.message ?? status}` }),
        )
      }),
    )

  const watchOnce = (path: string, query: string, resourceVersion: string): Stream.Stream<WatchEventOf, KubeError> =>
    Stream.fromAsyncIterable(
      (async function* () {
        const sep = query === "" ? "" : "&"
        const res = await doFetch(`${path}?${query}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=240&resourceVersion=${resourceVersion}`)
        if (res.status !== 200 || res.body === null) throw new Error(`watch ${path}: HTTP ${res.status}`)
        const decoder = new TextDecoder()
        let buffer = ""
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true })
          let nl = buffer.indexOf("\n")
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim()
            buffer = buffer.slice(nl + 1)
            if (line !== "") yield Schema.decodeUnknownSync(WatchEvent)(JSON.parse(line))
            nl = buffer.indexOf("\n")
          }
        }
      })(),
      (e) => new KubeError({ status: 0, reason: "Watch", message: String(e) }),
    )

  const listWatch = (path: string, query: string): Stream.Stream<WatchEventOf, KubeError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const list = Schema.decodeUnknownSync(List)(yield* request("GET", `${path}?${query}`))
        const rv = list.metadata.resourceVersion ?? "0"
        const listed = Stream.fromIterable([
          { type: "SYNC", object: list.items } as WatchEventOf,
        ])
        return Stream.concat(
          listed,
          watchOnce(path, query, rv).pipe(
            Stream.takeWhile((e) => e.type !== "ERROR"),
            // Bookmarks only keep the watch's resourceVersion fresh; we relist instead.
            Stream.filter((e) => e.type !== "BOOKMARK"),
          ),
        )
      }),
    ).pipe(
      // A watch ends by timeout, by a 410 Gone (ERROR event) or by a dropped connection: relist.
      Stream.catchAll((e) => Stream.fromEffect(Effect.logDebug(`watch ${path}: ${e.message}`)).pipe(Stream.drain)),
      Stream.concat(Stream.fromEffect(Effect.sleep("500 millis")).pipe(Stream.drain)),
      Stream.forever,
    )

  return { request, listWatch }
}

export const layer = (creds: Credentials): Layer.Layer<KubeClient> => Layer.succeed(KubeClient, make(creds))
