/**
 * Kubernetes Events (events.k8s.io/v1) about the objects Tusk manages. Repeats of the same
 * event (object, type, reason, action, note) within ten minutes become a series on one
 * Event whose count is written at most every 30 s; a token bucket caps the write rate so a
 * hot loop cannot flood the API server.
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { KubeClient } from "./KubeClient.ts"
import type { KubeObject } from "./ObjectMeta.ts"
import * as Resource from "./Resource.ts"
import { microTime } from "./Lease.ts"

/** What happened. */
export interface Event {
  readonly type: "Normal" | "Warning"
  /** Short CamelCase reason, e.g. "CreatingInstance". */
  readonly reason: string
  /** What Tusk did or failed to do, e.g. "Create". */
  readonly action: string
  /** Human-readable detail (at most 1 KiB is kept). */
  readonly note: string
}

/** The recorder. */
export interface Recorder {
  /** Record an event about `object` of kind `resource`; never fails (a lost event is only logged). */
  readonly record: (resource: Resource.ResourceInfo, object: KubeObject, event: Event) => Effect.Effect<void>
}

/** The event recorder service. */
export class EventRecorder extends Context.Tag("tusk/kube/EventRecorder")<EventRecorder, Recorder>() {}

/** Who reports. */
export interface Options {
  /** reportingController, e.g. "tusk.dev/controller". */
  readonly controller: string
  /** reportingInstance, e.g. the pod name. */
  readonly instance: string
  readonly seriesWindow?: Duration.Duration | undefined
  readonly seriesFlush?: Duration.Duration | undefined
  /** Token bucket: burst and refill interval. */
  readonly burst?: number | undefined
  readonly refill?: Duration.Duration | undefined
}

const events = Resource.unstructured({ group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true })

interface Series {
  readonly name: string
  readonly namespace: string
  readonly first: number
  count: number
  written: number
  last: number
  lastWrite: number
}

/** A token bucket, as pure state: take one token at `now` or refuse. */
export const takeToken = (
  bucket: { readonly tokens: number; readonly at: number },
  now: number,
  burst: number,
  refillMs: number,
): { readonly ok: boolean; readonly bucket: { readonly tokens: number; readonly at: number } } => {
  const tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs)
  return tokens >= 1 ? { ok: true, bucket: { tokens: tokens - 1, at: now } } : { ok: false, bucket: { tokens, at: now } }
}

/** A recorder writing through the KubeClient; a background fiber flushes series counts. */
export const make = Effect.fn("EventRecorder.make")(function* (options: Options) {
  const client = yield* KubeClient
  const window = Duration.toMillis(options.seriesWindow ?? Duration.minutes(10))
  const flushEvery = options.seriesFlush ?? Duration.seconds(30)
  const burst = options.burst ?? 25
  const refillMs = Duration.toMillis(options.refill ?? Duration.seconds(2))
  const series = new Map<string, Series>()
  let bucket = { tokens: burst, at: Date.now() }

  const allowed = () => {
    const r = takeToken(bucket, Date.now(), burst, refillMs)
    bucket = r.bucket
    return r.ok
  }

  const writeSeries = (s: Series) =>
    client.patch(events, s.name, {
      type: "merge",
      patch: { series: { count: s.count, lastObservedTime: microTime(s.last) } },
    }, { namespace: s.namespace }).pipe(
      Effect.tap(() => Effect.sync(() => {
        s.written = s.count
        s.lastWrite = Date.now()
      })),
      Effect.catchAll((e) => Effect.logWarning("could not update event series").pipe(Effect.annotateLogs({ event: s.name, error: e._tag }))),
    )

  const record: Recorder["record"] = (resource, object, event) =>
    Effect.suspend(() => {
      const now = Date.now()
      const note = event.note.slice(0, 1024)
      const uid = object.metadata.uid ?? ""
      const key = [uid, object.metadata.namespace, object.metadata.name, event.type, event.reason, event.action, note].join("\u0000")
      const existing = series.get(key)
      if (existing !== undefined && now - existing.first < window) {
        existing.count++
        existing.last = now
        return now - existing.lastWrite >= Duration.toMillis(flushEvery) && allowed() ? writeSeries(existing) : Effect.void
      }
      if (!allowed()) {
        return Effect.logWarning("event dropped by rate limit").pipe(Effect.annotateLogs({ reason: event.reason, name: object.metadata.name ?? "" }))
      }
      const namespace = object.metadata.namespace ?? "default"
      const name = `${object.metadata.name ?? "object"}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`
      return client.create(events, {
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: options.controller,
        reportingInstance: options.instance,
        action: event.action,
        reason: event.reason,
        note,
        type: event.type,
        regarding: {
          apiVersion: Resource.apiVersion(resource),
          kind: resource.kind,
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
      }, { namespace }).pipe(
        Effect.tap(() => Effect.sync(() => series.set(key, { name, namespace, first: now, count: 1, written: 1, last: now, lastWrite: now }))),
        Effect.catchAll((e) => Effect.logWarning("could not record event").pipe(Effect.annotateLogs({ reason: event.reason, error: e._tag, detail: e.message }))),
      )
    })

  // Flush counts not yet written and forget series past their window; no API call when idle.
  const flush = Effect.suspend(() => {
    const now = Date.now()
    const pending: Array<Series> = []
    for (const [key, s] of series) {
      if (s.count > s.written && allowed()) pending.push(s)
      else if (now - s.first >= window && s.count === s.written) series.delete(key)
    }
    return Effect.forEach(pending, writeSeries, { discard: true })
  })
  yield* flush.pipe(Effect.repeat(Schedule.spaced(flushEvery)), Effect.forkScoped)

  return { record } satisfies Recorder
})

/** The EventRecorder service. */
export const layer = (options: Options) => Layer.scoped(EventRecorder, make(options))
