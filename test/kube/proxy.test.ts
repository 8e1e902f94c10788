/**
 * pods/proxy through KubeClient: a GET reaches a pod's HTTP and HTTPS ports through the
 * API server. Runs one node agent of the local Kubernetes (node 7, apart from the nodes
 * other tests use) for the pod, and removes it afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, type Layer } from "effect"
import * as KubeClient from "../../src/kube/KubeClient.ts"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import * as Layout from "../localkube/layout.ts"
import * as Nodes from "../localkube/node/Nodes.ts"
import { adminLayer, deleteNamespaces, eventually, insideOrRerun, kube, namespace } from "./support.ts"

const node = 7

if (insideOrRerun(import.meta.path, 120_000)) {
  let lk: LocalKubeHandle
  let layer: Layer.Layer<KubeClient.KubeClient>

  beforeAll(async () => {
    lk = await kube()
    layer = await adminLayer(lk)
    await Effect.runPromise(Nodes.start(lk.service, node))
    await eventually("node ready", async () =>
      (await lk.kubectl(["get", "node", Layout.nodeName(node), "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])).trim() === "True" ? true : undefined, 60_000)
  }, 90_000)

  afterAll(async () => {
    await deleteNamespaces(lk)
    Nodes.shutdown(lk.service, node)
    await lk.kubectl(["delete", "node", Layout.nodeName(node), "--ignore-not-found", "--wait=false"])
  }, 60_000)

  describe("KubeClient.proxyGet", () => {
    test("GET on a pod's HTTP and HTTPS ports through the API server", async () => {
      const ns = await namespace(lk, "proxy")
      const script = [
        "cd /tmp && echo tusk-proxy-ok > index.html",
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=pod 2>/dev/null",
        "python3 -m http.server 8080 &",
        "exec openssl s_server -quiet -accept 8000 -cert c.pem -key k.pem -WWW",
      ].join("\n")
      await lk.kubectl(["apply", "-n", ns, "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "web" },
          spec: { nodeName: Layout.nodeName(node), containers: [{ name: "web", image: "debian", command: ["bash", "-c", script] }] },
        }),
      })
      const client = await Effect.runPromise(Effect.provide(KubeClient.KubeClient, layer))
      const https = await eventually("HTTPS through the proxy", async () => {
        const r = await Effect.runPromise(client.proxyGet(ns, "web", "/index.html"))
        return r.status === 200 ? r : undefined
      }, 60_000)
      expect(https.body.trim()).toBe("tusk-proxy-ok")
      const http = await eventually("HTTP through the proxy", async () => {
        const r = await Effect.runPromise(client.proxyGet(ns, "web", "index.html", { scheme: "http", port: 8080 }))
        return r.status === 200 ? r : undefined
      }, 30_000)
      expect(http.body.trim()).toBe("tusk-proxy-ok")
      const missing = await Effect.runPromise(client.proxyGet(ns, "web", "/nothing-here", { scheme: "http", port: 8080 }))
      expect(missing.status).toBe(404)
    })
  })
}
