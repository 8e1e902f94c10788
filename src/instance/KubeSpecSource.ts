/**
 * The Kubernetes-backed SpecSource used in instance pods: native watches (informers) on the
 * instance's own Cluster and, started on first use, on each Secret and ConfigMap it reads by
 * name. `setCurrentPrimary`, `reportStopped` and `clearStopped` patch the Cluster's status
 * subresource, the last two as test-and-set JSON patches.
 */
import { Duration, Effect, Layer, Option, Schema, Scope, Stream, SynchronizedRef } from "effect"
import * as Informer from "../kube/Informer.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import { objectKey } from "../kube/ObjectMeta.ts"
import * as Resource from "../kube/Resource.ts"
import { ClusterView } from "./ClusterView.ts"
import { SpecSource, SpecSourceError } from "./SpecSource.ts"

export interface KubeSpecSourceOptions {
  readonly namespace: string
  readonly clusterName: string
}

const clusters = Resource.unstructured({ group: "postgresql.tusk.dev", version: "v1", kind: "Cluster", plural: "clusters", namespaced: true })
const secrets = Resource.unstructured({ group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true })
const configMaps = Resource.unstructured({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true })

const ObjectData = Schema.Struct({ data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })) })
const decodeData = Schema.decodeUnknown(ObjectData)
const decodeView = Schema.decodeUnknown(ClusterView)

const invalid = (what: string) => (e: { readonly message: string }) =>
  new SpecSourceError({ reason: "Invalid", message: `${what}: ${e.message}` })
const unavailable = (what: string) => (e: { readonly message: string }) =>
  new SpecSourceError({ reason: "Unavailable", message: `${what}: ${e.message}` })

/** The SpecSource over the API server; needs a KubeClient with the pod's service account. */
export const layer = (options: KubeSpecSourceOptions): Layer.Layer<SpecSource, never, KubeClient> =>
  Layer.scoped(
    SpecSource,
    Effect.gen(function*() {
      const client = yield* KubeClient
      const scope = yield* Effect.scope
      const { namespace, clusterName } = options
      // One informer per object, selected by name: watches that RBAC can limit to resourceNames.
      const watchOne = (resource: Resource.Resource<Resource.Unstructured, typeof Resource.Unstructured.Encoded>, name: string) =>
        Informer.make(resource, { namespace, fieldSelector: `metadata.name=${name}` }).pipe(
          Effect.provideService(KubeClient, client),
          Scope.extend(scope)
        )
      const clusterInformer = yield* watchOne(clusters, clusterName)
      const key = (name: string) => objectKey(namespace, name)
      const toView = (o: unknown) => decodeView(o).pipe(Effect.mapError(invalid(`Cluster ${clusterName}`)))

      const cluster = clusterInformer.synced.pipe(
        Effect.timeoutFail({ duration: Duration.seconds(30), onTimeout: () => new SpecSourceError({ reason: "Unavailable", message: "Cluster watch not synced" }) }),
        Effect.zipRight(clusterInformer.get(key(clusterName))),
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new SpecSourceError({ reason: "NotFound", message: `Cluster ${namespace}/${clusterName} not found` })),
          onSome: toView
        }))
      )
      const changes = clusterInformer.changes.pipe(
        Stream.filter((c) => c._tag !== "Deleted" && c.object.metadata.name === clusterName),
        Stream.mapEffect((c) => toView(c.object))
      )

      const watched = yield* SynchronizedRef.make(new Map<string, Informer.Informer<Resource.Unstructured>>())
      const informerFor = (resource: typeof secrets, name: string) =>
        SynchronizedRef.modifyEffect(watched, (m) => {
          const id = `${resource.plural}/${name}`
          const existing = m.get(id)
          if (existing !== undefined) return Effect.succeed([existing, m] as const)
          return watchOne(resource, name).pipe(Effect.map((i) => [i, new Map(m).set(id, i)] as const))
        })
      const readData = (resource: typeof secrets, name: string, base64: boolean) =>
        Effect.gen(function*() {
          const informer = yield* informerFor(resource, name)
          yield* informer.synced.pipe(
            Effect.timeoutFail({ duration: Duration.seconds(30), onTimeout: () => new SpecSourceError({ reason: "Unavailable", message: `${resource.kind} ${name}: watch not synced` }) })
          )
          const found = yield* informer.get(key(name))
          if (Option.isNone(found)) return yield* new SpecSourceError({ reason: "NotFound", message: `${resource.kind} ${namespace}/${name} not found` })
          const { data } = yield* decodeData(found.value).pipe(Effect.mapError(invalid(`${resource.kind} ${name}`)))
          const entries = Object.entries(data ?? {}).map(([k, v]) => [k, base64 ? Buffer.from(v, "base64").toString("utf8") : v] as const)
          return Object.fromEntries(entries) as Readonly<Record<string, string>>
        })

      const setCurrentPrimary = (instance: string) =>
        client.patch(clusters, clusterName, {
          type: "merge",
          patch: { status: { currentPrimary: instance, currentPrimaryTimestamp: new Date().toISOString() } }
        }, { namespace, subresource: "status" }).pipe(
          Effect.mapError(unavailable(`Cluster ${clusterName} status`)),
          Effect.flatMap(toView)
        )

      // A failed `test` operation is refused as Invalid: the Cluster no longer holds what we expected.
      const testAndSet = (operations: ReadonlyArray<{ readonly op: string; readonly path: string; readonly value?: unknown }>) =>
        client.patch(clusters, clusterName, { type: "json", patch: operations }, { namespace, subresource: "status" }).pipe(
          Effect.as(true),
          Effect.catchTag("Invalid", () => Effect.succeed(false)),
          Effect.mapError(unavailable(`Cluster ${clusterName} status`))
        )
      const reportStopped = (instance: string, successor: string) =>
        testAndSet([
          { op: "test", path: "/status/currentPrimary", value: instance },
          { op: "test", path: "/status/targetPrimary", value: successor },
          { op: "add", path: "/status/formerPrimaryStopped", value: instance }
        ])
      const clearStopped = (instance: string) =>
        testAndSet([
          { op: "test", path: "/status/formerPrimaryStopped", value: instance },
          { op: "remove", path: "/status/formerPrimaryStopped" }
        ]).pipe(Effect.asVoid)

      const live = client.get(clusters, clusterName, { namespace }).pipe(
        Effect.mapError(unavailable(`Cluster ${clusterName}`)),
        Effect.flatMap(toView)
      )

      return {
        cluster,
        changes,
        live,
        secret: (name: string) => readData(secrets, name, true),
        configMap: (name: string) => readData(configMaps, name, false),
        setCurrentPrimary,
        reportStopped,
        clearStopped
      }
    })
  )
