/**
 * The Kubernetes-backed SpecSource against the local API server: it decodes its Cluster,
 * streams a change made with kubectl, reads Secrets (base64) and ConfigMaps by name, and
 * records currentPrimary through the status subresource, and reports or withdraws a former
 * primary's stop only under its preconditions (test-and-set).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import type * as KubeClient from "../../src/kube/KubeClient.ts"
import type { ClusterView } from "../../src/instance/ClusterView.ts"
import * as KubeSpecSource from "../../src/instance/KubeSpecSource.ts"
import { SpecSource } from "../../src/instance/SpecSource.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { adminLayer, installClusterCrd, eventually, insideOrRerun, kube, namespace } from "../kube/support.ts"

if (insideOrRerun(import.meta.path, 60_000)) {
  let lk: LocalKubeHandle
  let ns: string
  let client: Layer.Layer<KubeClient.KubeClient>
  const scope = Effect.runSync(Scope.make())

  beforeAll(async () => {
    lk = await kube()
    await installClusterCrd(lk)
    ns = await namespace(lk, "instance-spec")
    client = await adminLayer(lk)
  }, 120_000)

  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    if (ns !== undefined) await lk.kubectl(["delete", "namespace", ns, "--wait=false"])
  })

  const hold = "test.tusk.dev/hold"

  test("watches its Cluster, reads Secrets and ConfigMaps, patches status", async () => {
    const cluster = {
      apiVersion: "postgresql.tusk.dev/v1",
      kind: "Cluster",
      metadata: { name: "c", namespace: ns },
      spec: {
        instances: 3,
        storage: { size: "1Gi" },
        postgresql: { parameters: { max_worker_processes: "40", timezone: "Asia/Seoul" } },
        bootstrap: { initdb: { database: "app", owner: "app" } }
      }
    }
    await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(cluster) })
    await lk.kubectl(["-n", ns, "create", "secret", "generic", "c-app", "--from-literal=username=app", "--from-literal=password=pa ss'word"])
    await lk.kubectl(["-n", ns, "create", "configmap", "queries", "--from-literal=queries=x: 1"])

    const source = await Effect.runPromise(
      Layer.buildWithScope(KubeSpecSource.layer({ namespace: ns, clusterName: "c" }).pipe(Layer.provide(client)), scope).pipe(
        Effect.map((ctx) => ctx.unsafeMap.get(SpecSource.key) as typeof SpecSource.Service)
      )
    )
    const view = await Effect.runPromise(source.cluster)
    expect(view.metadata.name).toBe("c")
    expect(view.spec.postgresql?.parameters?.["timezone"]).toBe("Asia/Seoul")

    const seen: Array<ClusterView> = []
    const fiber = Effect.runFork(source.changes.pipe(Stream.runForEach((v) => Effect.sync(() => seen.push(v)))))
    await lk.kubectl(["-n", ns, "annotate", "cluster", "c", "tusk.dev/fencedInstances=c-2"])
    await eventually("annotation change", async () => seen.some((v) => v.metadata.annotations?.["tusk.dev/fencedInstances"] === "c-2") ? true : undefined)

    expect(await Effect.runPromise(source.secret("c-app"))).toEqual({ username: "app", password: "pa ss'word" })
    expect(await Effect.runPromise(source.configMap("queries"))).toEqual({ queries: "x: 1" })
    const missing = await Effect.runPromise(Effect.either(source.secret("nope")))
    expect(missing._tag === "Left" && missing.left.reason).toBe("NotFound")

    const updated = await Effect.runPromise(source.setCurrentPrimary("c-1"))
    expect(updated.status?.currentPrimary).toBe("c-1")
    const onServer = JSON.parse(await lk.kubectl(["-n", ns, "get", "cluster", "c", "-o", "json"]))
    expect(onServer.status.currentPrimary).toBe("c-1")
    await eventually("status change streamed", async () => seen.some((v) => v.status?.currentPrimary === "c-1") ? true : undefined)
    await Effect.runPromise(Fiber.interrupt(fiber))

    // The hand-over checks below write status fields the operator (installed in the shared local
    // Kubernetes by the end-to-end tests) would write too: a Cluster being deleted is left alone by it.
    await lk.kubectl(["-n", ns, "patch", "cluster", "c", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: [hold] } })])
    await lk.kubectl(["-n", ns, "delete", "cluster", "c", "--wait=false"])
    // reportStopped holds only while the Cluster shows that very hand-over.
    const fps = async () => JSON.parse(await lk.kubectl(["-n", ns, "get", "cluster", "c", "-o", "json"])).status.formerPrimaryStopped
    const target = (name: string) =>
      lk.kubectl(["-n", ns, "patch", "cluster", "c", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { targetPrimary: name } })])
    await target("c-2")
    expect(await Effect.runPromise(source.reportStopped("c-2", "c-1"))).toBe(false)
    expect(await Effect.runPromise(source.reportStopped("c-1", "c-3"))).toBe(false)
    expect(await fps()).toBeUndefined()
    expect(await Effect.runPromise(source.reportStopped("c-1", "c-2"))).toBe(true)
    expect(await fps()).toBe("c-1")
    // clearStopped removes only its own mark.
    await Effect.runPromise(source.clearStopped("c-2"))
    expect(await fps()).toBe("c-1")
    await Effect.runPromise(source.clearStopped("c-1"))
    expect(await fps()).toBeUndefined()
    await Effect.runPromise(source.clearStopped("c-1"))
    expect(await fps()).toBeUndefined()
    await lk.kubectl(["-n", ns, "patch", "cluster", "c", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: null } })])
  }, 60_000)
}
