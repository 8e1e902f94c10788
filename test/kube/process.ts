/**
 * `tusk controller` as a child process for tests and benchmarks: compiled once into a
 * temp dir, started with its own ports, logs collected as parsed JSON lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { bun, repoRoot } from "./support.ts"

/** The product's entry point, and the runtime-only one (observe-only setup, no reconciler). */
export const entries = {
  main: join(repoRoot, "src", "main.ts"),
  observer: join(repoRoot, "test", "kube", "observer-main.ts"),
}

/** Compile an entry point into a temp dir; returns the binary and a cleanup. */
export const compile = async (entry: string): Promise<{ readonly binary: string; readonly dir: string; readonly remove: () => void }> => {
  const dir = mkdtempSync(join(tmpdir(), "tusk-bin-"))
  const binary = join(dir, "tusk")
  const p = Bun.spawn([bun, "build", "--compile", "--minify", entry, "--outfile", binary], {
    cwd: repoRoot, stdout: "pipe", stderr: "pipe",
  })
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()])
  if (code !== 0) throw new Error(`bun build --compile failed: ${err}`)
  return { binary, dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A running controller process. */
export interface Controller {
  readonly proc: Bun.Subprocess
  readonly name: string
  readonly metricsPort: number
  readonly healthPort: number
  readonly logs: Array<Record<string, unknown>>
  readonly exited: Promise<number>
  readonly has: (msg: string, where?: (l: Record<string, unknown>) => boolean) => boolean
  readonly readyz: () => Promise<number>
  readonly metrics: () => Promise<string>
}

let nextPort = 18_000 + (process.pid % 1000) * 10

/** Start `tusk controller` from a compiled binary, or from an entry's source under bun. */
export const startController = (
  name: string,
  binary: { readonly binary: string } | { readonly source: string },
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
): Controller => {
  const metricsPort = nextPort++
  const healthPort = nextPort++
  const argv = [
    ...("binary" in binary ? [binary.binary] : [bun, binary.source]),
    "controller",
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    `--health-probe-bind-address=127.0.0.1:${healthPort}`,
    ...args,
  ]
  const proc = Bun.spawn(argv, {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: "/nonexistent", POD_NAME: name, ...env },
  })
  const logs: Array<Record<string, unknown>> = []
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let buf = ""
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          logs.push({ msg: line, unparsed: true })
        }
      }
    }
  }
  void collect(proc.stdout)
  void collect(proc.stderr)
  return {
    proc,
    name,
    metricsPort,
    healthPort,
    logs,
    exited: proc.exited,
    has: (msg, where = () => true) => logs.some((l) => l.msg === msg && where(l)),
    readyz: () => fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.status, () => 0),
    metrics: () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text()),
  }
}

/**
 * Apply the Cluster CRD from manifests/crd. Should the API server refuse it, and no Cluster
 * CRD exist yet, a schemaless stand-in serves the runtime's tests (which only need the
 * kind to exist); the refusal is reported on stderr.
 */
export const installClusterCrd = async (lk: LocalKubeHandle) => {
  const crd = "crd/clusters.postgresql.tusk.dev"
  try {
    await lk.kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "manifests", "crd", "postgresql.tusk.dev_clusters.yaml")])
  } catch (e) {
    console.error(`manifests/crd/postgresql.tusk.dev_clusters.yaml was refused: ${String(e).slice(0, 300)}`)
    if ((await lk.kubectl(["get", crd, "--ignore-not-found", "-o", "name"])).trim() === "") {
      await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(standInClusterCrd) })
    }
  }
  await lk.kubectl(["wait", "--for=condition=Established", crd, "--timeout=30s"])
}

const standInClusterCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "clusters.postgresql.tusk.dev" },
  spec: {
    group: "postgresql.tusk.dev",
    scope: "Namespaced",
    names: { plural: "clusters", singular: "cluster", kind: "Cluster", listKind: "ClusterList" },
    versions: [{
      name: "v1", served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    }],
  },
}

/**
 * A ServiceAccount with the operator's ClusterRole (bound cluster-wide, as the manifests do;
 * the binding is named after the namespace, delete it afterwards) and the leader-election
 * Role, and a kubeconfig that reads its token from a file.
 */
export const serviceAccountKubeconfig = async (lk: LocalKubeHandle, ns: string, dir: string): Promise<string> => {
  await lk.kubectl(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, "manifests", "rbac", "role.yaml")])
  await lk.kubectl(["create", "serviceaccount", "tusk-controller", "-n", ns])
  await lk.kubectl(["create", "clusterrolebinding", `tusk-controller-${ns}`, "--clusterrole=tusk-controller", `--serviceaccount=${ns}:tusk-controller`])
  await lk.kubectl(["create", "role", "tusk-leader-election", "-n", ns, "--verb=get,create,update", "--resource=leases.coordination.k8s.io"])
  await lk.kubectl(["create", "rolebinding", "tusk-leader-election", "-n", ns, "--role=tusk-leader-election", `--serviceaccount=${ns}:tusk-controller`])
  const token = (await lk.kubectl(["create", "token", "tusk-controller", "-n", ns, "--duration=2h"])).trim()
  const admin = JSON.parse(await Bun.file(lk.kubeconfig).text()) as { clusters: Array<unknown> }
  writeFileSync(join(dir, "sa-token"), token)
  const path = join(dir, "sa.kubeconfig")
  writeFileSync(path, JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: admin.clusters,
    users: [{ name: "sa", user: { tokenFile: join(dir, "sa-token") } }],
    contexts: [{ name: "sa", context: { cluster: (admin.clusters[0] as { name: string }).name, user: "sa", namespace: ns } }],
    "current-context": "sa",
  }))
  return path
}

/** Lease holder, or "" when released / absent. */
export const leaseHolder = async (lk: LocalKubeHandle, ns: string, name = "tusk-controller"): Promise<string> =>
  (await lk.kubectl(["get", "lease", name, "-n", ns, "--ignore-not-found", "-o", "jsonpath={.spec.holderIdentity}"])).trim()

/** A Cluster manifest (the minimal sample) named `name`. */
export const clusterManifest = (name: string, ns: string) => ({
  apiVersion: "postgresql.tusk.dev/v1",
  kind: "Cluster",
  metadata: { name, namespace: ns },
  spec: { instances: 1, storage: { size: "1Gi" } },
})
