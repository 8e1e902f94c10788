/**
 * `tusk controller` in a pod: the compiled binary as the operator image on a node agent,
 * configured in-cluster (service-account token file, CA, KUBERNETES_SERVICE_HOST through
 * the kubernetes Service), leading, ready, and releasing its lease when the pod is deleted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { join } from "node:path"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import * as Layout from "../localkube/layout.ts"
import * as Nodes from "../localkube/node/Nodes.ts"
import { compile, entries, installClusterCrd, leaseHolder } from "./process.ts"
import { deleteNamespaces, eventually, insideOrRerun, kube, namespace, repoRoot } from "./support.ts"

const node = 8

if (insideOrRerun(import.meta.path, 180_000)) {
  let lk: LocalKubeHandle
  let bin: Awaited<ReturnType<typeof compile>> | undefined
  let ns: string

  beforeAll(async () => {
    lk = await kube()
    bin = await compile(entries.main)
    await installClusterCrd(lk)
    await Effect.runPromise(Nodes.start(lk.service, node, { operatorBinary: bin.binary }))
    await eventually("node ready", async () =>
      (await lk.kubectl(["get", "node", Layout.nodeName(node), "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])).trim() === "True" ? true : undefined, 60_000)
  }, 240_000)

  afterAll(async () => {
    await deleteNamespaces(lk)
    if (ns !== undefined) await lk.kubectl(["delete", "clusterrolebinding", `tusk-controller-${ns}`, "--ignore-not-found"])
    Nodes.shutdown(lk.service, node)
    await lk.kubectl(["delete", "node", Layout.nodeName(node), "--ignore-not-found", "--wait=false"])
    bin?.remove()
  }, 60_000)

  describe("tusk controller in a pod", () => {
    test("in-cluster configuration, leadership, readiness, lease released on pod deletion", async () => {
      ns = await namespace(lk, "incluster")
      await lk.kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "manifests", "rbac", "role.yaml")])
      await lk.kubectl(["create", "serviceaccount", "tusk-controller", "-n", ns])
      await lk.kubectl(["create", "clusterrolebinding", `tusk-controller-${ns}`, "--clusterrole=tusk-controller", `--serviceaccount=${ns}:tusk-controller`])
      await lk.kubectl(["create", "role", "tusk-leader-election", "-n", ns, "--verb=get,create,update", "--resource=leases.coordination.k8s.io"])
      await lk.kubectl(["create", "rolebinding", "tusk-leader-election", "-n", ns, "--role=tusk-leader-election", `--serviceaccount=${ns}:tusk-controller`])
      await lk.kubectl(["apply", "-n", ns, "-f", "-"], {
        stdin: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "operator" },
          spec: {
            nodeName: Layout.nodeName(node),
            serviceAccountName: "tusk-controller",
            terminationGracePeriodSeconds: 15,
            containers: [{
              name: "manager",
              image: "ghcr.io/tusk-dev/tusk:test",
              command: ["/usr/local/bin/tusk"],
              args: ["controller", "--leader-elect", `--namespace=${ns}`],
              env: [
                { name: "OPERATOR_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port: 8081 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: "/healthz", port: 8081 }, periodSeconds: 5 },
            }],
          },
        }),
      })
      const podReady = () => lk.kubectl(["get", "pod", "operator", "-n", ns, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
      await eventually("the operator pod ready", async () => ((await podReady()).trim() === "True" ? true : undefined), 90_000)
      expect(await leaseHolder(lk, ns)).toBe("operator")
      const deleted = Date.now()
      await lk.kubectl(["delete", "pod", "operator", "-n", ns, "--wait=true", "--timeout=30s"])
      console.log(`pod deletion (SIGTERM) to pod gone: ${Date.now() - deleted} ms`)
      expect(await leaseHolder(lk, ns)).toBe("")
    }, 150_000)
  })
}
