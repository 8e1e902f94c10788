/**
 * Informers against the real API server: list then watch, the label index, relist on 410
 * Gone with a diff by UID, the watchdog, and a kube-apiserver restart without a lost event.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Duration, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import * as Informer from "../../src/kube/Informer.ts"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import type { KubeObject } from "../../src/kube/ObjectMeta.ts"
import type * as Resource from "../../src/kube/Resource.ts"
import type { Change } from "../../src/kube/Store.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { adminLayer, configMaps, deleteNamespaces, eventually, insideOrRerun, installWidgetCrd, kube, namespace, restartApiServer, widgets, type ConfigMap, type Widget } from "./support.ts"

if (insideOrRerun(import.meta.path, 120_000)) {
  let lk: LocalKubeHandle
  let layer: Layer.Layer<KubeClient.KubeClient>
  let client: KubeClient.Client

  /** Start an informer in a fresh scope; returns it, its recorded changes, and a close. */
  const startFor = async <A extends KubeObject, I>(resource: Resource.Resource<A, I>, options: Informer.Options<A>) => {
    const scope = Effect.runSync(Scope.make())
    const informer = await Effect.runPromise(Informer.make(resource, options).pipe(Effect.provide(layer), Scope.extend(scope)))
    const changes: Array<Change<A>> = []
    const fiber = Effect.runFork(informer.changes.pipe(Stream.runForEach((c) => Effect.sync(() => changes.push(c)))))
    return {
      informer,
      changes,
      run: <A>(e: Effect.Effect<A>) => Effect.runPromise(e),
      close: () => Effect.runPromise(Effect.zipRight(Fiber.interrupt(fiber), Scope.close(scope, Exit.void))),
    }
  }
  const start = (options: Informer.Options<ConfigMap>) => startFor(configMaps, options)
  const create = (ns: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}) =>
    Effect.runPromise(client.create(configMaps, { metadata: { name, namespace: ns, labels }, data }))
  const serverState = async <A extends KubeObject, I>(ns: string, resource: Resource.Resource<A, I>) =>
    (await Effect.runPromise(client.list(resource, { namespace: ns }))).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort()
  const cacheState = async (i: Informer.Informer<KubeObject>) =>
    (await Effect.runPromise(i.list)).map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort()

  beforeAll(async () => {
    lk = await kube()
    layer = await adminLayer(lk)
    client = await Effect.runPromise(Effect.provide(KubeClient.KubeClient, layer))
  })

  afterAll(() => deleteNamespaces(lk))

  describe("Informer", () => {
    test("lists, then streams adds, updates and deletes; the label index follows", async () => {
      const ns = await namespace(lk, "inf-basic")
      await create(ns, "pre", {}, { "tusk.dev/cluster": "a" })
      const s = await start({ namespace: ns, indexedLabels: ["tusk.dev/cluster"] })
      await s.run(s.informer.synced)
      expect(await s.run(s.informer.byLabel("tusk.dev/cluster", "a"))).toHaveLength(1)
      await create(ns, "x", { v: "1" }, { "tusk.dev/cluster": "a" })
      await Effect.runPromise(client.patch(configMaps, "x", { type: "merge", patch: { data: { v: "2" }, metadata: { labels: { "tusk.dev/cluster": "b" } } } }, { namespace: ns }))
      await Effect.runPromise(client.delete(configMaps, "pre", { namespace: ns }))
      await eventually("the delete", async () => (s.changes.some((c) => c._tag === "Deleted") ? true : undefined))
      const seen = s.changes.filter((c) => c.object.metadata.name !== "kube-root-ca.crt").map((c) => `${c._tag} ${c.object.metadata.name}`)
      expect(seen).toEqual(["Added pre", "Added x", "Modified x", "Deleted pre"])
      expect((await s.run(s.informer.byLabel("tusk.dev/cluster", "b"))).map((o) => o.metadata.name)).toEqual(["x"])
      expect(await s.run(s.informer.byLabel("tusk.dev/cluster", "a"))).toHaveLength(0)
      expect(await cacheState(s.informer)).toEqual(await serverState(ns, configMaps))
      const stats = await s.run(s.informer.stats)
      expect([stats.lists, stats.relists, stats.watchErrors]).toEqual([1, 0, 0])
      await s.close()
    })

    test("a 410 Gone leads to a relist whose diff brings the cache to the server's state", async () => {
      const ns = await namespace(lk, "inf-gone")
      await installWidgetCrd(lk)
      const w = (name: string, size = 1) => Effect.runPromise(client.create(widgets, { metadata: { name, namespace: ns }, spec: { size } }))
      const kept = await w("kept")
      const changed = await w("changed")
      await Effect.runPromise(client.patch(widgets, "changed", { type: "merge", patch: { spec: { size: 2 } } }, { namespace: ns }))
      await w("unseen")
      // A stale state: a phantom that no longer exists, an old version, and resourceVersion 1,
      // older than anything the API server's watch cache holds for this kind.
      const phantom: Widget = { metadata: { name: "phantom", namespace: ns, uid: "phantom-uid", resourceVersion: "1" }, spec: { size: 1 } }
      const s = await startFor(widgets, { namespace: ns, resumeFrom: { resourceVersion: "1", items: [kept, changed, phantom] } })
      await eventually("a relist", async () => ((await s.run(s.informer.stats)).relists >= 1 ? true : undefined))
      await eventually("cache = server", async () => {
        const [a, b] = [await cacheState(s.informer), await serverState(ns, widgets)]
        return JSON.stringify(a) === JSON.stringify(b) ? true : undefined
      })
      const tags = s.changes.map((c) => `${c._tag} ${c.object.metadata.name}`)
      expect(tags).toContain("Deleted phantom")
      expect(tags).toContain("Modified changed")
      expect(tags).toContain("Added unseen")
      expect(tags).not.toContain("Modified kept")
      expect((await s.run(s.informer.stats)).lists).toBe(1)
      // and it keeps watching afterwards
      await w("after")
      await eventually("the add after the relist", async () => (s.changes.some((c) => c.object.metadata.name === "after") ? true : undefined))
      await s.close()
    })

    test("the watchdog restarts a silent watch, and nothing is missed", async () => {
      const ns = await namespace(lk, "inf-dog")
      const s = await start({ namespace: ns, watchdog: Duration.seconds(2), watchTimeout: { min: Duration.seconds(60), max: Duration.seconds(61) } })
      await s.run(s.informer.synced)
      await Bun.sleep(5_000)
      await create(ns, "late")
      await eventually("the add", async () => (s.changes.some((c) => c.object.metadata.name === "late") ? true : undefined))
      const stats = await s.run(s.informer.stats)
      expect(stats.stalls).toBeGreaterThanOrEqual(1)
      expect(stats.lists).toBe(1) // resumed from the last version, no relist
      await s.close()
    })

    test("a kube-apiserver restart loses no event", async () => {
      const ns = await namespace(lk, "inf-restart")
      const s = await start({ namespace: ns, backoff: { base: Duration.millis(100), max: Duration.seconds(2), jitter: 0.5 } })
      await s.run(s.informer.synced)
      for (let i = 0; i < 5; i++) await create(ns, `before-${i}`)
      const restart = restartApiServer(lk, 2_000)
      await restart
      // Writes as soon as the API server is back, while the informer may still be backing off.
      for (let i = 0; i < 5; i++) await create(ns, `after-${i}`)
      await Effect.runPromise(client.delete(configMaps, "before-0", { namespace: ns }))
      await eventually("every object", async () => {
        const [a, b] = [await cacheState(s.informer), await serverState(ns, configMaps)]
        return JSON.stringify(a) === JSON.stringify(b) ? true : undefined
      }, 60_000)
      const names = (tag: string) => s.changes.filter((c) => c._tag === tag).map((c) => c.object.metadata.name)
      for (let i = 0; i < 5; i++) {
        expect(names("Added")).toContain(`before-${i}`)
        expect(names("Added")).toContain(`after-${i}`)
      }
      expect(names("Deleted")).toContain("before-0")
      const stats = await s.run(s.informer.stats)
      expect(stats.watchErrors).toBeGreaterThanOrEqual(1)
      console.log("restart: informer stats", JSON.stringify(stats))
      await s.close()
    })
  })
}
