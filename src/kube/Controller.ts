/**
 * A controller: informer changes mapped to keys of the primary kind, a keyed work queue,
 * and a reconcile function. Reconciles carry a reconcile id and log with controller,
 * namespace and name. The reconcile function is all a concrete controller supplies.
 */
import { Duration, Effect, Schema, Stream } from "effect"
import type * as Informer from "./Informer.ts"
import { keyOf, objectKey, OwnerReference, parseKey, type KubeObject } from "./ObjectMeta.ts"
import type { Change } from "./Store.ts"
import * as WorkQueue from "./WorkQueue.ts"

/** What to reconcile: one object of the primary kind, by key. */
export interface Request {
  readonly key: string
  readonly namespace: string | undefined
  readonly name: string
  readonly reconcileID: string
}

/** What a reconcile may ask for (requeue later); failures back off per key. */
export type Result = WorkQueue.Result

/** A reconcile function; it may fail with anything (logged, then retried with back-off). */
export type Reconcile = (request: Request) => Effect.Effect<Result | void, unknown>

/** A secondary watch: which primary keys a change of another kind concerns. */
export interface Watch {
  readonly informer: Informer.Informer<KubeObject>
  readonly toKeys: (object: KubeObject) => ReadonlyArray<string>
  /** Only changes that pass wake their keys; default: every change. */
  readonly filter?: ((change: Change<KubeObject>) => boolean) | undefined
}

/** A controller definition. */
export interface Controller {
  readonly name: string
  /** Informer of the primary kind (its own changes enqueue its own key). */
  readonly primary: Informer.Informer<KubeObject>
  readonly watches?: ReadonlyArray<Watch> | undefined
  readonly workers?: number | undefined
  readonly reconcile: Reconcile
  /** Only changes that pass are enqueued; default: every change but status-only updates of the primary. */
  readonly filter?: ((change: Change<KubeObject>) => boolean) | undefined
}

const isOwnerReference = Schema.is(OwnerReference)

/** Keys of the owners of a given kind (by ownerReferences) in the object's namespace. */
export const ownerKeys = (kind: string, group: string) => (object: KubeObject): ReadonlyArray<string> =>
  (object.metadata.ownerReferences ?? [])
    .filter(isOwnerReference)
    .filter((o) => o.kind === kind && (o.apiVersion === group || o.apiVersion.startsWith(`${group}/`)))
    .map((o) => objectKey(object.metadata.namespace, o.name))

/** Key of the object named by a label value in the object's namespace. */
export const labelKey = (label: string) => (object: KubeObject): ReadonlyArray<string> => {
  const value = object.metadata.labels?.[label]
  return value === undefined ? [] : [objectKey(object.metadata.namespace, value)]
}

/**
 * Default primary filter: skip updates that changed neither generation, labels, annotations,
 * finalizers, owners nor deletion (status-only writes, often our own). Objects without a
 * generation always pass.
 */
export const specChanged = (change: Change<KubeObject>): boolean => {
  if (change._tag !== "Modified") return true
  const a = change.old.metadata as Record<string, unknown>
  const b = change.object.metadata as Record<string, unknown>
  if (change.object.metadata.generation === undefined) return true
  return change.old.metadata.generation !== change.object.metadata.generation ||
    ["labels", "annotations", "finalizers", "ownerReferences", "deletionTimestamp"].some((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]))
}

const reconcileID = () => crypto.randomUUID()

/** Run a controller for the life of the scope (call it only on the leader). */
export const run = Effect.fn("Controller.run")(function* (controller: Controller) {
  yield* Effect.all([controller.primary.synced, ...(controller.watches ?? []).map((w) => w.informer.synced)], { discard: true })
  const queue = yield* WorkQueue.make<string, unknown, never>(
    { name: controller.name, workers: controller.workers ?? 2 },
    (key) => {
      const { namespace, name } = parseKey(key)
      const request: Request = { key, namespace, name, reconcileID: reconcileID() }
      return controller.reconcile(request).pipe(
        Effect.withSpan(`${controller.name}.reconcile`),
        Effect.annotateLogs({ controller: controller.name, namespace: namespace ?? "", name, reconcileID: request.reconcileID }),
      )
    },
  )
  const filter = controller.filter ?? specChanged
  const primary = controller.primary.changes.pipe(
    Stream.filter(filter),
    Stream.runForEach((change) => queue.add(keyOf(change.object))),
  )
  const secondaries = (controller.watches ?? []).map((w) =>
    w.informer.changes.pipe(
      Stream.filter(w.filter ?? (() => true)),
      Stream.runForEach((change) =>
        Effect.forEach(
          change._tag === "Modified" ? [...new Set([...w.toKeys(change.old), ...w.toKeys(change.object)])] : w.toKeys(change.object),
          queue.add,
          { discard: true },
        )
      ),
    )
  )
  yield* Effect.logInfo("controller started").pipe(Effect.annotateLogs({ controller: controller.name }))
  return yield* Effect.all([primary, ...secondaries], { concurrency: "unbounded", discard: true }).pipe(
    Effect.zipRight(Effect.never),
  )
})

/** A reconcile result asking to come back later. */
export const requeueAfter = (d: Duration.DurationInput): Result => ({ requeueAfter: d })
