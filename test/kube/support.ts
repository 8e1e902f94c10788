/**
 * Shared pieces of the controller-runtime tests against the local API server: the
 * inside-the-namespace switch, a client for the admin kubeconfig, test namespaces, a
 * ConfigMap kind, API server metrics (FlowSchemas.ts), and a kube-apiserver restart.
 */
import { expect, test } from "bun:test"
import { Effect, Layer, Schema } from "effect"
import { join } from "node:path"
import { localKube, startTimeoutMs, type LocalKubeHandle } from "../localkube/harness.ts"
import * as Layout from "../localkube/layout.ts"
import * as Network from "../localkube/controlplane/Network.ts"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import * as KubeConfig from "../../src/kube/KubeConfig.ts"
import { ObjectMeta } from "../../src/kube/ObjectMeta.ts"
import * as Resource from "../../src/kube/Resource.ts"
import { dispatchedByFlowSchema as parseDispatched, flowSchema } from "./FlowSchemas.ts"

export const repoRoot = join(import.meta.dir, "..", "..")
export const bun = join(repoRoot, "node_modules", ".bin", "bun")

/** True when this process runs inside the local cluster's network namespace. */
export const inside = Network.insideNetns(Layout.defaultClusterName)

/**
 * The API server is reachable only inside the cluster's network namespace. Outside, a test
 * file registers one test that starts (or reuses) the control plane and runs the file again
 * inside; inside, it registers its real tests. Returns whether to register them.
 */
export const insideOrRerun = (file: string, timeoutMs: number): boolean => {
  if (inside) return true
  test(`${file.split("/").pop()} inside the local cluster's network namespace`, async () => {
    const lk = await localKube()
    const r = await lk.exec([bun, "test", "--timeout", String(timeoutMs), file], { env: { TUSK_LOCALKUBE_INNER: "1" } })
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    expect(r.exitCode).toBe(0)
  }, startTimeoutMs + timeoutMs * 20)
  return false
}

/** The shared control plane (reused: inside, it is always up already). */
export const kube = (): Promise<LocalKubeHandle> => localKube()

/** The admin connection (client certificate) as the runtime loads it. */
export const adminConnection = (lk: LocalKubeHandle) => Effect.runPromise(KubeConfig.fromKubeconfigFiles([lk.kubeconfig]))

/** A KubeClient layer for the admin kubeconfig. */
export const adminLayer = async (lk: LocalKubeHandle) => Layer.succeed(KubeClient.KubeClient, KubeClient.make(await adminConnection(lk)))

/** ConfigMaps: the simplest namespaced kind, good for watch tests. */
export const ConfigMap = Schema.Struct({
  apiVersion: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  metadata: ObjectMeta,
  data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
})
export type ConfigMap = typeof ConfigMap.Type
export const configMaps = Resource.make({ group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true }, ConfigMap)

/** Widgets: a test CRD with a status subresource. */
export const Widget = Schema.Struct({
  apiVersion: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  metadata: ObjectMeta,
  spec: Schema.Struct({ size: Schema.Number }),
  status: Schema.optional(Schema.Struct({ phase: Schema.optional(Schema.String), seen: Schema.optional(Schema.Number) })),
})
export type Widget = typeof Widget.Type
export const widgets = Resource.make({ group: "tusktest.dev", version: "v1", kind: "Widget", plural: "widgets", namespaced: true }, Widget)
const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.tusktest.dev" },
  spec: {
    group: "tusktest.dev",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [{
      name: "v1", served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: "object", properties: {
        spec: { type: "object", required: ["size"], properties: { size: { type: "integer", minimum: 1 } } },
        status: { type: "object", properties: { phase: { type: "string" }, seen: { type: "integer" } } },
      } } },
    }],
  },
}

/**
 * Install the Widget CRD. Its watch cache starts when the CRD is served, so resourceVersion
 * "1" is older than anything it holds: a watch from there is answered 410 Gone.
 */
export const installWidgetCrd = async (lk: LocalKubeHandle) => {
  await lk.kubectl(["apply", "--server-side", "-f", "-"], { stdin: JSON.stringify(widgetCrd) })
  await lk.kubectl(["wait", "--for=condition=Established", "crd/widgets.tusktest.dev", "--timeout=30s"])
}

/** Install Tusk's Cluster CRD as generated into manifests/. */
export const installClusterCrd = async (lk: LocalKubeHandle) => {
  await lk.kubectl(["apply", "--server-side", "-f", join(repoRoot, "manifests/crd/postgresql.tusk.dev_clusters.yaml")])
  await lk.kubectl(["wait", "--for=condition=Established", "crd/clusters.postgresql.tusk.dev", "--timeout=30s"])
}

let counter = 0
const created: Array<string> = []
/** A fresh namespace (see `deleteNamespaces`). */
export const namespace = async (lk: LocalKubeHandle, prefix: string): Promise<string> => {
  const ns = `${prefix}-${process.pid}-${counter++}`
  await lk.kubectl(["create", "namespace", ns])
  created.push(ns)
  return ns
}

/** Delete the namespaces this process created (the namespace controller finishes in the background). */
export const deleteNamespaces = async (lk: LocalKubeHandle): Promise<void> => {
  const names = created.splice(0)
  if (names.length > 0) await lk.kubectl(["delete", "namespace", ...names, "--wait=false"])
}

/** Polls until `check` returns something other than undefined. */
export const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

/** Three FlowSchemas that split a ServiceAccount's requests into lease traffic, watches, and everything else. */
export const flowSchemas = (ns: string, serviceAccount: string) => {
  const subject = { name: serviceAccount, namespace: ns }
  const resources = (verbs: ReadonlyArray<string>, resources: ReadonlyArray<string>, apiGroups: ReadonlyArray<string>) =>
    [{ verbs, apiGroups, resources, clusterScope: true, namespaces: ["*"] }]
  return {
    names: { lease: `${ns}-lease`, watch: `${ns}-watch`, rest: `${ns}-rest` },
    objects: [
      flowSchema(`${ns}-lease`, 100, subject, { resourceRules: resources(["*"], ["leases"], ["coordination.k8s.io"]) }),
      flowSchema(`${ns}-watch`, 101, subject, { resourceRules: resources(["watch"], ["*"], ["*"]) }),
      flowSchema(`${ns}-rest`, 102, subject, {
        resourceRules: resources(["*"], ["*"], ["*"]),
        nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
      }),
    ],
  }
}

/** apiserver_flowcontrol_dispatched_requests_total per flow schema. */
export const dispatchedByFlowSchema = async (lk: LocalKubeHandle): Promise<Map<string, number>> =>
  parseDispatched(await lk.kubectl(["get", "--raw", "/metrics"]))

export { restartApiServer } from "../localkube/controlplane/Restart.ts"
