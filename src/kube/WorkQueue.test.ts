import { describe, expect, test } from "bun:test"
import { Deferred, Duration, Effect, Ref } from "effect"
import * as WorkQueue from "./WorkQueue.ts"

const run = <A, E>(e: Effect.Effect<A, E, import("effect").Scope.Scope>) => Effect.runPromise(Effect.scoped(e))

describe("WorkQueue", () => {
  test("a key added many times while waiting is processed once", () =>
    run(Effect.gen(function* () {
      const seen: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const q = yield* WorkQueue.make<string, never, never>({ name: "t1", workers: 1 }, (k) =>
        Effect.sync(() => seen.push(k)).pipe(Effect.zipRight(k === "block" ? Deferred.await(gate) : Effect.void)))
      yield* q.add("block")
      yield* Effect.sleep(Duration.millis(20))
      for (let i = 0; i < 10; i++) yield* q.add("a")
      yield* q.add("b")
      expect(yield* q.depth).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.sleep(Duration.millis(50))
      expect(seen).toEqual(["block", "a", "b"])
    })))

  test("one reconcile per key at a time; a key added in flight runs again after", () =>
    run(Effect.gen(function* () {
      const running = yield* Ref.make(0)
      const maxRunning = yield* Ref.make(0)
      const calls = yield* Ref.make(0)
      const q = yield* WorkQueue.make<string, never, never>({ name: "t2", workers: 4 }, () =>
        Effect.gen(function* () {
          const n = yield* Ref.updateAndGet(running, (x) => x + 1)
          yield* Ref.update(maxRunning, (m) => Math.max(m, n))
          yield* Ref.update(calls, (x) => x + 1)
          yield* Effect.sleep(Duration.millis(30))
          yield* Ref.update(running, (x) => x - 1)
        }))
      yield* q.add("k")
      yield* Effect.sleep(Duration.millis(10))
      yield* q.add("k") // in flight: must wait, then run once more
      yield* q.add("k")
      yield* Effect.sleep(Duration.millis(300))
      expect(yield* Ref.get(maxRunning)).toBe(1)
      expect(yield* Ref.get(calls)).toBe(2)
    })))

  test("N workers process different keys in parallel", () =>
    run(Effect.gen(function* () {
      const running = yield* Ref.make(0)
      const maxRunning = yield* Ref.make(0)
      const q = yield* WorkQueue.make<string, never, never>({ name: "t3", workers: 3 }, () =>
        Effect.gen(function* () {
          const n = yield* Ref.updateAndGet(running, (x) => x + 1)
          yield* Ref.update(maxRunning, (m) => Math.max(m, n))
          yield* Effect.sleep(Duration.millis(40))
          yield* Ref.update(running, (x) => x - 1)
        }))
      for (const k of ["a", "b", "c", "d", "e"]) yield* q.add(k)
      yield* Effect.sleep(Duration.millis(300))
      expect(yield* Ref.get(maxRunning)).toBe(3)
    })))

  test("failures back off exponentially per key; success resets", () =>
    run(Effect.gen(function* () {
      const times: Array<number> = []
      const q = yield* WorkQueue.make<string, string, never>(
        { name: "t4", workers: 1, backoff: { base: Duration.millis(20), max: Duration.seconds(1), jitter: 0 } },
        () => Effect.suspend(() => times.push(Date.now()) < 4 ? Effect.fail("boom") : Effect.void),
      )
      yield* q.add("k")
      yield* Effect.sleep(Duration.millis(1000))
      expect(times.length).toBe(4)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      // 20, 40, 80 ms (timer slack allowed)
      expect(gaps[0]!).toBeGreaterThanOrEqual(18)
      expect(gaps[1]!).toBeGreaterThanOrEqual(38)
      expect(gaps[2]!).toBeGreaterThanOrEqual(78)
      expect(gaps[2]!).toBeLessThan(500)
      expect(yield* q.failures("k")).toBe(0)
    })))

  test("requeueAfter brings a key back; the earliest pending delay wins", () =>
    run(Effect.gen(function* () {
      const times: Array<number> = []
      const start = Date.now()
      const q = yield* WorkQueue.make<string, never, never>({ name: "t5", workers: 1 }, () =>
        Effect.sync(() => times.push(Date.now() - start) === 1 ? { requeueAfter: Duration.millis(60) } : {}))
      yield* q.addAfter("k", Duration.millis(1500))
      yield* q.addAfter("k", Duration.millis(30)) // earlier: replaces the 1.5 s one
      yield* q.addAfter("k", Duration.millis(1000)) // later: ignored
      yield* Effect.sleep(Duration.millis(600))
      expect(times.length).toBe(2)
      expect(times[0]!).toBeGreaterThanOrEqual(28)
      expect(times[0]!).toBeLessThan(500)
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(58)
      yield* Effect.sleep(Duration.millis(1200))
      expect(times.length).toBe(2)
    })))

  test("a defect is a failure like any other and does not kill the worker", () =>
    run(Effect.gen(function* () {
      const seen: Array<string> = []
      const q = yield* WorkQueue.make<string, never, never>(
        { name: "t6", workers: 1, backoff: { base: Duration.seconds(10), max: Duration.seconds(10), jitter: 0 } },
        (k) => Effect.sync(() => seen.push(k)).pipe(Effect.zipRight(k === "bad" ? Effect.die("bug") : Effect.void)))
      yield* q.add("bad")
      yield* q.add("good")
      yield* Effect.sleep(Duration.millis(50))
      expect(seen).toEqual(["bad", "good"])
      expect(yield* q.failures("bad")).toBe(1)
    })))
})
