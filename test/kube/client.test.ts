/**
 * KubeClient against the real API server: CRUD with preconditions, server-side apply,
 * merge and JSON patch, the status subresource, conflict retry, typed errors, evictions.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Option, Stream } from "effect"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import * as KubeError from "../../src/kube/KubeError.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { adminLayer, configMaps, deleteNamespaces, insideOrRerun, installWidgetCrd, kube, namespace, widgets, type ConfigMap } from "./support.ts"

if (insideOrRerun(import.meta.path, 60_000)) {
  let lk: LocalKubeHandle
  let layer: Layer.Layer<KubeClient.KubeClient>
  let ns: string
  const run = <A, E>(f: (c: KubeClient.Client) => Effect.Effect<A, E>) =>
    Effect.runPromise(Effect.flatMap(KubeClient.KubeClient, f).pipe(Effect.provide(layer)))
  const runEither = <A, E>(f: (c: KubeClient.Client) => Effect.Effect<A, E>) =>
    Effect.runPromise(Effect.flatMap(KubeClient.KubeClient, (c) => Effect.either(f(c))).pipe(Effect.provide(layer)))
  const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({ metadata: { name, namespace: ns }, data })

  beforeAll(async () => {
    lk = await kube()
    layer = await adminLayer(lk)
    ns = await namespace(lk, "kube-client")
    await installWidgetCrd(lk)
  })

  afterAll(() => deleteNamespaces(lk))

  describe("KubeClient", () => {
    test("create, get, list with pagination, delete", async () => {
      for (let i = 0; i < 7; i++) await run((c) => c.create(configMaps, cm(`page-${i}`, { i: String(i) })))
      const got = await run((c) => c.get(configMaps, "page-3", { namespace: ns }))
      expect(got.data).toEqual({ i: "3" })
      const page = await run((c) => c.listPage(configMaps, { namespace: ns, limit: 3 }))
      expect(page.items.length).toBe(3)
      expect(page.continue).toBeDefined()
      const all = await run((c) => c.list(configMaps, { namespace: ns, limit: 2 }))
      expect(all.items.filter((o) => o.metadata.name?.startsWith("page-")).length).toBe(7)
      expect(Number(all.resourceVersion)).toBeGreaterThan(0)
      await run((c) => c.delete(configMaps, "page-0", { namespace: ns }))
      const gone = await runEither((c) => c.get(configMaps, "page-0", { namespace: ns }))
      expect(Either.isLeft(gone) && gone.left._tag).toBe("NotFound")
    })

    test("typed errors: AlreadyExists, Invalid with causes, Conflict on a stale version, precondition failure", async () => {
      const first = await run((c) => c.create(configMaps, cm("errs")))
      const again = await runEither((c) => c.create(configMaps, cm("errs")))
      expect(Either.isLeft(again) && again.left._tag).toBe("AlreadyExists")
      const invalid = await runEither((c) => c.create(configMaps, cm("Not_A_Name")))
      if (Either.isRight(invalid) || invalid.left._tag !== "Invalid") throw new Error(`expected Invalid, got ${JSON.stringify(invalid)}`)
      expect(invalid.left.causes.some((c) => c.field === "metadata.name")).toBe(true)
      await run((c) => c.replace(configMaps, { ...first, data: { v: "1" } }))
      const stale = await runEither((c) => c.replace(configMaps, { ...first, data: { v: "2" } }))
      expect(Either.isLeft(stale) && stale.left._tag).toBe("Conflict")
      const wrongUid = await runEither((c) => c.delete(configMaps, "errs", { namespace: ns, preconditions: { uid: "00000000-0000-0000-0000-000000000000" } }))
      expect(Either.isLeft(wrongUid) && wrongUid.left._tag).toBe("Conflict")
      await run((c) => c.delete(configMaps, "errs", { namespace: ns, preconditions: { uid: first.metadata.uid! }, propagationPolicy: "Foreground" }))
    })

    test("update retries a conflict: concurrent increments all land", async () => {
      await run((c) => c.create(configMaps, cm("counter", { n: "0" })))
      const bump = (c: KubeClient.Client) =>
        c.update(configMaps, "counter", (o) => ({ ...o, data: { n: String(Number(o.data?.n ?? "0") + 1) } }), { namespace: ns })
      await run((c) => Effect.all(Array.from({ length: 6 }, () => bump(c)), { concurrency: "unbounded" }))
      const final = await run((c) => c.get(configMaps, "counter", { namespace: ns }))
      expect(final.data?.n).toBe("6")
    })

    test("server-side apply as field manager tusk; merge and JSON patch", async () => {
      const applied = await run((c) => c.apply(configMaps, { metadata: { name: "ssa", namespace: ns, labels: { a: "1" } }, data: { x: "1" } }))
      expect(applied.data).toEqual({ x: "1" })
      const managers = JSON.parse(await lk.kubectl(["get", "configmap", "ssa", "-n", ns, "--show-managed-fields", "-o", "json"])) as {
        metadata: { managedFields: Array<{ manager: string; operation: string }> }
      }
      expect(managers.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: "tusk", operation: "Apply" }))
      // Applying without a field drops it (we owned it).
      const reapplied = await run((c) => c.apply(configMaps, { metadata: { name: "ssa", namespace: ns }, data: { y: "2" } }))
      expect(reapplied.data).toEqual({ y: "2" })
      expect(reapplied.metadata.labels?.a).toBeUndefined()
      const merged = await run((c) => c.patch(configMaps, "ssa", { type: "merge", patch: { data: { z: "3" } } }, { namespace: ns }))
      expect(merged.data).toEqual({ y: "2", z: "3" })
      const jsonPatched = await run((c) => c.patch(configMaps, "ssa", { type: "json", patch: [{ op: "remove", path: "/data/y" }] }, { namespace: ns }))
      expect(jsonPatched.data).toEqual({ z: "3" })
      const failedTest = await runEither((c) => c.patch(configMaps, "ssa", { type: "json", patch: [{ op: "test", path: "/data/z", value: "4" }] }, { namespace: ns }))
      expect(Either.isLeft(failedTest)).toBe(true)
    })

    test("status goes through the subresource and only there", async () => {
      const w = await run((c) => c.create(widgets, { metadata: { name: "w", namespace: ns }, spec: { size: 1 } }))
      expect(w.metadata.generation).toBe(1)
      // status in a main-resource write is ignored
      const viaMain = await run((c) => c.replace(widgets, { ...w, spec: { size: 2 }, status: { phase: "ignored" } }))
      expect(viaMain.status?.phase).toBeUndefined()
      expect(viaMain.metadata.generation).toBe(2)
      const viaStatus = await run((c) => c.replace(widgets, { ...viaMain, spec: { size: 99 }, status: { phase: "Ready", seen: 2 } }, { subresource: "status" }))
      expect(viaStatus.status).toEqual({ phase: "Ready", seen: 2 })
      expect(viaStatus.spec.size).toBe(2) // spec in a status write is ignored
      expect(viaStatus.metadata.generation).toBe(2)
      const applied = await run((c) => c.apply(widgets, { metadata: { name: "w", namespace: ns }, status: { phase: "Applied" } }, { subresource: "status" }))
      expect(applied.status?.phase).toBe("Applied")
      const patched = await run((c) => c.patch(widgets, "w", { type: "merge", patch: { status: { seen: 3 } } }, { namespace: ns, subresource: "status" }))
      expect(patched.status?.seen).toBe(3)
      const statusConflict = await runEither((c) => c.replace(widgets, { ...viaMain, status: { phase: "stale" } }, { subresource: "status" }))
      expect(Either.isLeft(statusConflict) && statusConflict.left._tag).toBe("Conflict")
      const invalid = await runEither((c) => c.apply(widgets, { metadata: { name: "bad", namespace: ns }, spec: { size: 0 } }))
      expect(Either.isLeft(invalid) && invalid.left._tag).toBe("Invalid")
    })

    test("a watch from a version older than the watch cache fails with Gone", async () => {
      const result = await run((c) =>
        c.watch(widgets, { namespace: ns, resourceVersion: "1", timeoutSeconds: 10 }).pipe(Stream.runCollect, Effect.either))
      expect(Either.isLeft(result) && result.left._tag).toBe("Gone")
    })

    test("eviction of a pod; NotFound for a missing one", async () => {
      await lk.kubectl(["run", "evictee", "-n", ns, "--image=registry.invalid/none:1", "--restart=Never"])
      await run((c) => c.evict(ns, "evictee"))
      const pod = await lk.kubectl(["get", "pod", "evictee", "-n", ns, "--ignore-not-found", "-o", "name"])
      const deleting = pod.trim() === "" || (await lk.kubectl(["get", "pod", "evictee", "-n", ns, "-o", "jsonpath={.metadata.deletionTimestamp}"])).trim() !== ""
      expect(deleting).toBe(true)
      const missing = await runEither((c) => c.evict(ns, "no-such-pod"))
      expect(Either.isLeft(missing) && missing.left._tag).toBe("NotFound")
    })

    test("unauthenticated requests are Unauthorized, RBAC refusals Forbidden", async () => {
      const conn = await Effect.runPromise(Effect.flatMap(KubeClient.KubeClient, (c) => Effect.succeed(c.connection)).pipe(Effect.provide(layer)))
      const anon = KubeClient.make({ ...conn, cert: undefined, key: undefined, token: Effect.succeed(Option.some("not-a-token")) })
      const r = await Effect.runPromise(Effect.either(anon.get(configMaps, "x", { namespace: ns })))
      expect(Either.isLeft(r) && r.left._tag).toBe("Unauthorized")
      await lk.kubectl(["create", "serviceaccount", "nobody", "-n", ns])
      const token = (await lk.kubectl(["create", "token", "nobody", "-n", ns])).trim()
      const nobody = KubeClient.make({ ...conn, cert: undefined, key: undefined, token: Effect.succeed(Option.some(token)) })
      const f = await Effect.runPromise(Effect.either(nobody.get(configMaps, "x", { namespace: ns })))
      expect(Either.isLeft(f) && f.left._tag).toBe("Forbidden")
    })

    test("creating in a namespace being deleted is Forbidden and says so", async () => {
      const doomed = await namespace(lk, "doomed")
      // A finalizer holds the namespace in Terminating while the create is tried.
      await run((c) => c.create(configMaps, { metadata: { name: "held", namespace: doomed, finalizers: ["tusk.dev/test-hold"] } }, { namespace: doomed }))
      await lk.kubectl(["delete", "namespace", doomed, "--wait=false"])
      try {
        const r = await runEither((c) => c.create(configMaps, { metadata: { name: "late", namespace: doomed } }, { namespace: doomed }))
        expect(Either.isLeft(r) && r.left._tag).toBe("Forbidden")
        expect(Either.isLeft(r) && KubeError.isNamespaceTerminating(r.left)).toBe(true)
        const other = await runEither((c) => c.get(configMaps, "missing", { namespace: ns }))
        expect(Either.isLeft(other) && KubeError.isNamespaceTerminating(other.left)).toBe(false)
      } finally {
        await lk.kubectl(["-n", doomed, "patch", "configmap", "held", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: null } })])
      }
    })
  })
}
