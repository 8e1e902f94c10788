/**
 * The operator's status write against the local API server: it changes only what the plan
 * changed, and it holds only on the Cluster the plan read. A write planned on an older
 * resourceVersion fails with Conflict and leaves the newer status alone.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { Effect, Either, type Layer } from "effect"
import type { Cluster } from "../../src/api/Cluster.ts"
import { writeStatus } from "../../src/controller/act/Act.ts"
import * as Kinds from "../../src/controller/Kinds.ts"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { adminLayer, installClusterCrd, insideOrRerun, kube, namespace } from "./support.ts"

if (insideOrRerun(import.meta.path, 60_000)) {
  let lk: LocalKubeHandle
  let ns: string
  let client: Layer.Layer<KubeClient.KubeClient>

  beforeAll(async () => {
    lk = await kube()
    await installClusterCrd(lk)
    ns = await namespace(lk, "status-write")
    client = await adminLayer(lk)
  }, 120_000)

  afterAll(async () => {
    if (ns !== undefined) await lk.kubectl(["delete", "namespace", ns, "--wait=false"])
  })

  const read = () =>
    Effect.runPromise(Effect.flatMap(KubeClient.KubeClient, (c) => c.get(Kinds.clusters, "c", { namespace: ns })).pipe(Effect.provide(client)))
  const write = (cluster: Cluster, status: Cluster["status"]) =>
    Effect.runPromise(Effect.either(writeStatus(cluster, status ?? {})).pipe(Effect.provide(client)))

  test("a status planned on an older Cluster is refused with Conflict", async () => {
    // A Cluster being deleted is left alone by an operator that may run in the shared local Kubernetes.
    const hold = "test.tusk.dev/hold"
    const cluster = { apiVersion: "postgresql.tusk.dev/v1", kind: "Cluster", metadata: { name: "c", namespace: ns, finalizers: [hold] }, spec: { instances: 3, storage: { size: "1Gi" } } }
    await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(cluster) })
    await lk.kubectl(["-n", ns, "delete", "cluster", "c", "--wait=false"])
    const planned = await read()
    expect(Either.isRight(await write(planned, { targetPrimary: "c-1", currentPrimary: "c-1" }))).toBe(true)

    const fresh = await read()
    // Meanwhile an instance records something (here: a former primary withdrawing its stop).
    await lk.kubectl(["-n", ns, "patch", "cluster", "c", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "x" } })])
    const stale = await write(fresh, { ...fresh.status, formerPrimaryStopped: "c-1" })
    expect(Either.isLeft(stale) && stale.left._tag).toBe("Conflict")
    const now = await read()
    expect(now.status?.formerPrimaryStopped).toBeUndefined()
    expect(now.status?.phase).toBe("x")
    // On the current Cluster the same write holds, and carries only what changed.
    expect(Either.isRight(await write(now, { ...now.status, formerPrimaryStopped: "c-1" }))).toBe(true)
    expect((await read()).status).toMatchObject({ targetPrimary: "c-1", currentPrimary: "c-1", formerPrimaryStopped: "c-1", phase: "x" })
    await lk.kubectl(["-n", ns, "patch", "cluster", "c", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: null } })])
  }, 60_000)
}
