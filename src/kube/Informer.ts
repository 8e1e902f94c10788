/**
 * An informer: a paginated LIST, then a WATCH from its resourceVersion, kept open for as
 * long as the scope lives. It resumes from the last version seen (bookmarks included),
 * relists and diffs by UID when the server answers 410 Gone, backs off with jitter on
 * errors, and restarts a watch that has gone silent. Subscribers get the cache's changes
 * as a Stream; nothing polls.
 */
import { Data, Deferred, Duration, Effect, Either, Metric, Option, ParseResult, PubSub, Ref, Schema, Stream } from "effect"
import * as Backoff from "./Backoff.ts"
import { KubeClient } from "./KubeClient.ts"
import type * as KubeError from "./KubeError.ts"
import { keyOf, type KubeObject } from "./ObjectMeta.ts"
import * as Resource from "./Resource.ts"
import { Store, type Change } from "./Store.ts"

/** How an informer lists and watches. */
export interface Options<A> {
  /** Restrict to one namespace; all namespaces when absent. */
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  /** Label keys to index (see `byLabel`). */
  readonly indexedLabels?: ReadonlyArray<string> | undefined
  readonly pageSize?: number | undefined
  /** Range the watch's timeoutSeconds is drawn from; kept below Bun's 5-minute fetch idle limit. */
  readonly watchTimeout?: { readonly min: Duration.Duration; readonly max: Duration.Duration } | undefined
  /** Restart a watch on which nothing, not even a bookmark, arrived for this long. */
  readonly watchdog?: Duration.Duration | undefined
  readonly backoff?: Backoff.Policy | undefined
  /** Start from a state seen earlier instead of listing; a compacted version leads to a relist. */
  readonly resumeFrom?: { readonly resourceVersion: string; readonly items: ReadonlyArray<A> } | undefined
}

/** Counters of what an informer did, for tests and metrics. */
export interface Stats {
  readonly lists: number
  readonly relists: number
  readonly watches: number
  readonly watchErrors: number
  readonly stalls: number
  readonly events: number
  readonly resourceVersion: string | undefined
}

/** A running informer over one kind. */
export interface Informer<A extends KubeObject> {
  readonly resource: Resource.ResourceInfo
  /** Completes once the first list is in the cache. */
  readonly synced: Effect.Effect<void>
  readonly isSynced: Effect.Effect<boolean>
  readonly get: (key: string) => Effect.Effect<Option.Option<A>>
  readonly list: Effect.Effect<ReadonlyArray<A>>
  /** Objects whose indexed label has this value. */
  readonly byLabel: (label: string, value: string) => Effect.Effect<ReadonlyArray<A>>
  /** The current contents as Added, then every change as it happens. */
  readonly changes: Stream.Stream<Change<A>>
  readonly stats: Effect.Effect<Stats>
}

/** The watch delivered nothing for longer than the watchdog allows. */
export class WatchStalled extends Data.TaggedError("WatchStalled")<{ readonly after: Duration.Duration }> {}

const defaults = {
  pageSize: 500,
  watchTimeout: { min: Duration.minutes(3), max: Duration.seconds(270) },
  watchdog: Duration.seconds(150),
  backoff: { base: Duration.millis(200), max: Duration.seconds(30), jitter: 0.5 } satisfies Backoff.Policy,
}

const listsTotal = Metric.counter("tusk_informer_lists_total", { description: "Full lists made by informers", incremental: true })
const relistsTotal = Metric.counter("tusk_informer_relists_total", { description: "Relists after 410 Gone", incremental: true })
const watchesTotal = Metric.counter("tusk_informer_watches_total", { description: "Watch requests opened", incremental: true })
const watchErrorsTotal = Metric.counter("tusk_informer_watch_errors_total", { description: "Watches that ended in an error", incremental: true })
const eventsTotal = Metric.counter("tusk_informer_events_total", { description: "Watch events received, bookmarks included", incremental: true })

/** Start an informer for the life of the scope. */
export const make = <A extends KubeObject, I>(resource: Resource.Resource<A, I>, options: Options<A> = {}) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const store = new Store<A>(options.indexedLabels ?? [])
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<Change<A>>(), PubSub.shutdown)
    const synced = yield* Deferred.make<void>()
    const stats = yield* Ref.make<Stats>({
      lists: 0, relists: 0, watches: 0, watchErrors: 0, stalls: 0, events: 0, resourceVersion: undefined,
    })
    const bump = (m: Metric.Metric.Counter<number>) => Metric.increment(Metric.tagged(m, "resource", resource.plural))
    const count = (field: "lists" | "relists" | "watches" | "watchErrors" | "stalls" | "events") =>
      Ref.update(stats, (s) => ({ ...s, [field]: s[field] + 1 }))
    const setVersion = (rv: string) => Ref.update(stats, (s) => ({ ...s, resourceVersion: rv }))
    const watchTimeout = options.watchTimeout ?? defaults.watchTimeout
    const watchdog = options.watchdog ?? defaults.watchdog
    const backoff = options.backoff ?? defaults.backoff
    const scope = { namespace: options.namespace, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector }

    // Objects travel untyped and are decoded one by one: an object that does not fit the
    // schema is logged and left out of the cache instead of stalling the whole informer.
    const untyped = Resource.unstructured(resource)
    const decode = Schema.decodeUnknownEither(resource.schema)
    const typed = (o: Resource.Unstructured): Effect.Effect<Option.Option<A>> =>
      Either.match(decode(o), {
        onLeft: (e) =>
          Effect.as(
            Effect.logWarning("object does not match its schema; ignored").pipe(
              Effect.annotateLogs({ resource: resource.plural, namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "", error: ParseResult.TreeFormatter.formatErrorSync(e) }),
            ),
            Option.none(),
          ),
        onRight: (a) => Effect.succeed(Option.some(a)),
      })
    const upsert = (o: Resource.Unstructured) =>
      Effect.flatMap(typed(o), Option.match({
        // An object that became invalid is gone as far as subscribers can tell.
        onNone: () => {
          const old = store.get(keyOf(o))
          return old === undefined ? Effect.void : publish(store.delete(old))
        },
        onSome: (a) => publish(store.upsert(a)),
      }))

    const publish = (changes: ReadonlyArray<Change<A>>) =>
      changes.length === 0 ? Effect.void : PubSub.publishAll(pubsub, changes)

    const relist = Effect.gen(function* () {
      const page = yield* client.list(untyped, { ...scope, limit: options.pageSize ?? defaults.pageSize })
      yield* count("lists")
      yield* bump(listsTotal)
      const items = yield* Effect.forEach(page.items, typed)
      yield* publish(store.replace(items.flatMap(Option.toArray)))
      yield* setVersion(page.resourceVersion)
      yield* Deferred.succeed(synced, undefined)
      return page.resourceVersion
    })

    const timeoutSeconds = () => {
      const min = Duration.toSeconds(watchTimeout.min)
      const max = Duration.toSeconds(watchTimeout.max)
      return Math.floor(min + Math.random() * (max - min))
    }

    // One watch, until the server closes it; returns the last version seen.
    const watchOnce = (from: string) =>
      Effect.gen(function* () {
        let rv = from
        yield* count("watches")
        yield* bump(watchesTotal)
        yield* client.watch(untyped, { ...scope, resourceVersion: from, timeoutSeconds: timeoutSeconds(), allowWatchBookmarks: true }).pipe(
          Stream.timeoutFail(() => new WatchStalled({ after: watchdog }), watchdog),
          Stream.runForEach((event) =>
            Effect.gen(function* () {
              yield* count("events")
              yield* bump(eventsTotal)
              switch (event.type) {
                case "BOOKMARK":
                  rv = event.resourceVersion
                  break
                case "ADDED":
                case "MODIFIED":
                  yield* upsert(event.object)
                  rv = event.object.metadata.resourceVersion ?? rv
                  break
                case "DELETED": {
                  const old = store.get(keyOf(event.object))
                  const last = yield* typed(event.object)
                  if (old !== undefined) yield* publish(store.delete(Option.getOrElse(last, () => old)))
                  rv = event.object.metadata.resourceVersion ?? rv
                  break
                }
              }
              yield* setVersion(rv)
            })
          ),
        )
        return rv
      })

    type Step = { readonly rv: string | undefined; readonly attempt: number }
    const fail = (step: Step, e: KubeError.KubeError | WatchStalled, request: "list" | "watch") =>
      Effect.gen(function* () {
        if (e._tag === "Gone") {
          yield* count("relists")
          yield* bump(relistsTotal)
          yield* Effect.logInfo("resource version expired, relisting").pipe(Effect.annotateLogs({ resource: resource.plural }))
          return { rv: undefined, attempt: 0 }
        }
        if (e._tag === "WatchStalled") yield* count("stalls")
        yield* count("watchErrors")
        yield* bump(watchErrorsTotal)
        const wait = Backoff.delay(backoff, step.attempt)
        yield* Effect.logWarning(`${request} failed, retrying`).pipe(
          Effect.annotateLogs({ resource: resource.plural, error: e._tag, detail: "message" in e ? e.message : "", retryInMs: Math.round(Duration.toMillis(wait)) }),
        )
        yield* Effect.sleep(wait)
        return { rv: step.rv, attempt: step.attempt + 1 }
      })

    const step = (s: Step): Effect.Effect<Step> =>
      Effect.gen(function* () {
        if (s.rv === undefined) {
          return yield* relist.pipe(
            Effect.map((rv): Step => ({ rv, attempt: s.attempt })),
            Effect.catchAll((e) => fail(s, e, "list")),
          )
        }
        const started = Date.now()
        return yield* watchOnce(s.rv).pipe(
          // A watch the server ends at once, again and again, must not spin.
          Effect.flatMap((rv) =>
            Date.now() - started > 1000
              ? Effect.succeed<Step>({ rv, attempt: 0 })
              : fail({ rv, attempt: s.attempt }, new WatchStalled({ after: Duration.zero }), "watch")
          ),
          Effect.catchAll((e) => fail(s, e, "watch")),
        )
      })

    const initial: Step = options.resumeFrom === undefined
      ? { rv: undefined, attempt: 0 }
      : { rv: options.resumeFrom.resourceVersion, attempt: 0 }
    if (options.resumeFrom !== undefined) {
      store.replace(options.resumeFrom.items)
      yield* Deferred.succeed(synced, undefined)
    }
    // A defect (a bug) must not end the informer silently: log it and go on as after an error.
    const guarded = (s: Step): Effect.Effect<Step> =>
      step(s).pipe(Effect.catchAllDefect((defect) =>
        Effect.logError("informer step failed", defect).pipe(
          Effect.zipRight(Effect.sleep(Backoff.delay(backoff, s.attempt))),
          Effect.as({ rv: undefined, attempt: s.attempt + 1 }),
        )))
    yield* Effect.iterate(initial, { while: () => true, body: guarded }).pipe(
      Effect.annotateLogs({ informer: resource.plural }),
      Effect.forkScoped,
    )

    const changes: Stream.Stream<Change<A>> = Stream.unwrapScoped(
      Effect.gen(function* () {
        const sub = yield* PubSub.subscribe(pubsub)
        const snapshot = store.values().map((object): Change<A> => ({ _tag: "Added", object }))
        return Stream.concat(Stream.fromIterable(snapshot), Stream.fromQueue(sub))
      }),
    )

    return {
      resource,
      synced: Deferred.await(synced),
      isSynced: Deferred.isDone(synced),
      get: (key) => Effect.sync(() => Option.fromNullable(store.get(key))),
      list: Effect.sync(() => store.values()),
      byLabel: (label, value) => Effect.sync(() => store.byLabel(label, value)),
      changes,
      stats: Ref.get(stats),
    } satisfies Informer<A>
  })
