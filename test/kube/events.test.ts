/**
 * EventRecorder against the real API server: events.k8s.io/v1 Events about an object,
 * repeats aggregated into one Event's series, and the rate limit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Duration, Effect, Exit, Layer, Scope } from "effect"
import * as EventRecorder from "../../src/kube/EventRecorder.ts"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { adminLayer, configMaps, deleteNamespaces, eventually, insideOrRerun, kube, namespace } from "./support.ts"

interface EventList {
  readonly items: ReadonlyArray<{
    readonly reason: string
    readonly note?: string
    readonly type: string
    readonly action: string
    readonly reportingController: string
    readonly reportingInstance: string
    readonly regarding: { readonly kind: string; readonly name: string; readonly uid: string }
    readonly series?: { readonly count: number }
  }>
}

if (insideOrRerun(import.meta.path, 60_000)) {
  let lk: LocalKubeHandle
  let layer: Layer.Layer<KubeClient.KubeClient>

  beforeAll(async () => {
    lk = await kube()
    layer = await adminLayer(lk)
  })
  afterAll(() => deleteNamespaces(lk))

  const events = async (ns: string) =>
    (JSON.parse(await lk.kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])) as EventList).items

  describe("EventRecorder", () => {
    test("records, aggregates repeats into a series, and rate-limits", async () => {
      const ns = await namespace(lk, "events")
      const scope = Effect.runSync(Scope.make())
      const run = <A, E>(e: Effect.Effect<A, E, KubeClient.KubeClient | Scope.Scope>) => Effect.runPromise(e.pipe(Effect.provide(layer), Scope.extend(scope)))
      const recorder = await run(EventRecorder.make({ controller: "tusk.dev/controller", instance: "test-pod", seriesFlush: Duration.seconds(1), burst: 3, refill: Duration.minutes(10) }))
      const subject = await run(Effect.flatMap(KubeClient.KubeClient, (c) => c.create(configMaps, { metadata: { name: "subject", namespace: ns } })))
      const warn = { type: "Warning" as const, reason: "ImageMissing", action: "CreatePod", note: "image x:1 cannot be pulled" }
      for (let i = 0; i < 5; i++) await run(recorder.record(configMaps, subject, warn))
      await run(recorder.record(configMaps, subject, { type: "Normal", reason: "Created", action: "Create", note: "created" }))
      const found = await eventually("the series count", async () => {
        const items = await events(ns)
        const w = items.find((e) => e.reason === "ImageMissing")
        return w?.series?.count === 5 ? items : undefined
      }, 10_000)
      expect(found.filter((e) => e.reason === "ImageMissing")).toHaveLength(1)
      const w = found.find((e) => e.reason === "ImageMissing")!
      expect(w).toMatchObject({
        type: "Warning", action: "CreatePod", note: "image x:1 cannot be pulled", reportingController: "tusk.dev/controller", reportingInstance: "test-pod",
        regarding: { kind: "ConfigMap", name: "subject", uid: subject.metadata.uid },
      })
      expect(found.find((e) => e.reason === "Created")).toBeDefined()
      // burst 3: two creates and one series patch used it up; a new event is dropped, not written
      await run(recorder.record(configMaps, subject, { type: "Normal", reason: "Dropped", action: "Nothing", note: "over the limit" }))
      await Bun.sleep(1_500)
      expect((await events(ns)).find((e) => e.reason === "Dropped")).toBeUndefined()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    })
  })
}
