/**
 * A keyed work queue: a key waits at most once, is processed by at most one worker at a
 * time (a key added while in flight runs again afterwards), fails into per-key exponential
 * back-off, and can ask to come back later. N workers drain it for the life of the scope.
 */
import { Cause, Duration, Effect, Exit, FiberMap, Metric, MetricBoundaries, Queue } from "effect"
import * as Backoff from "./Backoff.ts"

/** What processing a key may ask for. */
export interface Result {
  /** Process the key again after this long (e.g. while waiting for a pod to start). */
  readonly requeueAfter?: Duration.DurationInput | undefined
}

/** How the queue runs. */
export interface Options {
  /** Metric label, e.g. the controller name. */
  readonly name: string
  readonly workers: number
  readonly backoff?: Backoff.Policy | undefined
}

/** A running queue. */
export interface WorkQueue<K extends string> {
  /** Enqueue a key unless it already waits. */
  readonly add: (key: K) => Effect.Effect<void>
  /** Enqueue a key after a delay; an earlier pending delay for the same key wins. */
  readonly addAfter: (key: K, delay: Duration.DurationInput) => Effect.Effect<void>
  /** Keys waiting (not in flight). */
  readonly depth: Effect.Effect<number>
  /** Consecutive failures of a key so far. */
  readonly failures: (key: K) => Effect.Effect<number>
}

const defaultBackoff: Backoff.Policy = { base: Duration.millis(100), max: Duration.minutes(5), jitter: 0.5 }

const depthGauge = Metric.gauge("tusk_workqueue_depth", { description: "Keys waiting in the work queue" })
const addsTotal = Metric.counter("tusk_workqueue_adds_total", { description: "Keys added to the work queue", incremental: true })
const retriesTotal = Metric.counter("tusk_workqueue_retries_total", { description: "Keys requeued after a failure", incremental: true })
const reconcilesTotal = Metric.counter("tusk_reconcile_total", { description: "Reconciles by result", incremental: true })
const workDuration = Metric.histogram(
  "tusk_workqueue_work_duration_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 16 }),
  "Time spent processing one key",
)

/** Start a queue whose workers run `process` for the life of the scope. */
export const make = <K extends string, E, R>(
  options: Options,
  process: (key: K) => Effect.Effect<Result | void, E, R>,
) =>
  Effect.gen(function* () {
    const ready = yield* Effect.acquireRelease(Queue.unbounded<K>(), Queue.shutdown)
    const dirty = new Set<K>()
    const processing = new Set<K>()
    const failures = new Map<K, number>()
    const deadlines = new Map<K, number>()
    const delayed = yield* FiberMap.make<K>()
    const metrics = {
      depth: Metric.tagged(depthGauge, "queue", options.name),
      adds: Metric.tagged(addsTotal, "queue", options.name),
      retries: Metric.tagged(retriesTotal, "queue", options.name),
      duration: Metric.tagged(workDuration, "queue", options.name),
      result: (r: "success" | "requeue" | "error") =>
        Metric.tagged(Metric.tagged(reconcilesTotal, "queue", options.name), "result", r),
    }
    const depth = () => {
      let n = 0
      for (const k of dirty) if (!processing.has(k)) n++
      return n
    }
    const updateDepth = Effect.suspend(() => Metric.set(metrics.depth, depth()))

    const add = (key: K): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (dirty.has(key)) return Effect.void
        dirty.add(key)
        return Effect.zipRight(
          Metric.increment(metrics.adds),
          processing.has(key) ? updateDepth : Effect.zipRight(Queue.offer(ready, key), updateDepth),
        )
      })

    const addAfter = (key: K, delay: Duration.DurationInput): Effect.Effect<void> =>
      Effect.suspend(() => {
        const ms = Duration.toMillis(Duration.decode(delay))
        if (ms <= 0) return add(key)
        const at = Date.now() + ms
        const pending = deadlines.get(key)
        if (pending !== undefined && pending <= at) return Effect.void
        deadlines.set(key, at)
        // A timer longer than 2^31-1 ms would never fire: wake earlier; the reconcile asks again.
        return FiberMap.run(
          delayed,
          key,
          Effect.sleep(Duration.millis(Math.min(ms, 2 ** 31 - 1))).pipe(
            Effect.zipRight(Effect.sync(() => deadlines.delete(key))),
            Effect.zipRight(add(key)),
          ),
        ).pipe(Effect.asVoid)
      })

    const work = Effect.gen(function* () {
      const key = yield* Queue.take(ready)
      dirty.delete(key)
      processing.add(key)
      yield* updateDepth
      const started = performance.now()
      const exit = yield* Effect.exit(process(key))
      yield* Metric.update(metrics.duration, (performance.now() - started) / 1000)
      processing.delete(key)
      if (Exit.isSuccess(exit)) {
        failures.delete(key)
        const after = exit.value?.requeueAfter
        yield* Metric.increment(metrics.result(after === undefined ? "success" : "requeue"))
        if (after !== undefined) yield* addAfter(key, after)
      } else {
        if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
        const attempt = failures.get(key) ?? 0
        failures.set(key, attempt + 1)
        const wait = Backoff.delay(options.backoff ?? defaultBackoff, attempt)
        yield* Metric.increment(metrics.result("error"))
        yield* Metric.increment(metrics.retries)
        yield* Effect.logError("reconcile failed", exit.cause).pipe(
          Effect.annotateLogs({ key, attempt: attempt + 1, retryInMs: Math.round(Duration.toMillis(wait)) }),
        )
        yield* addAfter(key, wait)
      }
      if (dirty.has(key)) yield* Queue.offer(ready, key)
      yield* updateDepth
    })

    yield* Effect.forkScoped(Effect.all(Array.from({ length: Math.max(1, options.workers) }, () => Effect.forever(work)), { concurrency: "unbounded", discard: true }))

    return {
      add,
      addAfter,
      depth: Effect.sync(depth),
      failures: (key) => Effect.sync(() => failures.get(key) ?? 0),
    } satisfies WorkQueue<K>
  })
