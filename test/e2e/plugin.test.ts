/**
 * `kubectl tusk` end to end on the local Kubernetes: S8 (status of a real 3-instance
 * Cluster), psql with the Cluster's Secrets, promote driving a real switchover while
 * writes continue, fencing on/off driving the pod NotReady and back, report, and the exit
 * codes scripts rely on. The compiled binary runs as `kubectl-tusk` inside the cluster
 * network, as a user's laptop with a kubeconfig would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { unzipSync } from "fflate"
import { parse } from "yaml"
import { type Environment, environment, eventually, namespaceWithClient } from "./support/Environment.ts"

const minute = 60_000
const plugin = new URL("../../dist/kubectl-tusk", import.meta.url).pathname
let env: Environment
let ns: string

const sample = parse(await Bun.file(new URL("../../manifests/samples/cluster-example.yaml", import.meta.url)).text())

/** Run the plugin; resolves with its exit code and output whatever the code. */
const tusk = async (...args: ReadonlyArray<string>) => {
  const r = await env.lk.exec([plugin, ...args])
  return { code: r.exitCode, out: r.stdout, err: r.stderr }
}
const ok = async (...args: ReadonlyArray<string>) => {
  const r = await tusk(...args)
  if (r.code !== 0) throw new Error(`kubectl-tusk ${args.join(" ")} exited ${r.code}: ${r.err}`)
  return r.out
}

interface ClusterView {
  status: { currentPrimary?: string; targetPrimary?: string; phase?: string; systemID?: string; instanceNames?: Array<string> }
}
const cluster = () => env.json<ClusterView>(["-n", ns, "get", "cluster", "mycluster"])
const healthy = async () => {
  const c = await cluster()
  return c.status.phase === "Cluster in healthy state" && c.status.currentPrimary === c.status.targetPrimary ? c : undefined
}

/** psql from the client pod through the -rw Service, as an application would. */
const sql = async (query: string) => {
  const r = await env.execIn(ns, "client", ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "mycluster-rw", "-U", "postgres", "-c", query])
  if (r.exitCode !== 0) throw new Error(`psql exited ${r.exitCode}: ${r.stderr}`)
  return r.stdout.trim()
}

beforeAll(async () => {
  env = await environment()
  ns = await namespaceWithClient(env, "plug")
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(sample))
  await eventually("mycluster to become healthy", healthy, 6 * minute, 500)
}, 10 * minute)

afterAll(async () => {
  if (ns !== undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
})

describe("S8 status", () => {
  test("summary, certificates, streaming replication per standby, instances table", async () => {
    const c = await cluster()
    const primary = c.status.currentPrimary!
    const text = await ok("status", "mycluster", "-n", ns)
    expect(text).toMatch(new RegExp(`^Name:\\s+mycluster$`, "m"))
    expect(text).toMatch(new RegExp(`^System ID:\\s+${c.status.systemID}$`, "m"))
    expect(text).toMatch(/^PostgreSQL Image:\s+ghcr\.io\/cloudnative-pg\/postgresql:15\.3$/m)
    expect(text).toMatch(new RegExp(`^Primary instance:\\s+${primary} \\(since `, "m"))
    expect(text).toMatch(/^Status:\s+Cluster in healthy state$/m)
    expect(text).toMatch(/^Instances:\s+3$/m)
    expect(text).toMatch(/^Ready instances:\s+3$/m)
    for (const cert of ["mycluster-ca", "mycluster-server", "mycluster-replication"]) expect(text).toMatch(new RegExp(`^${cert}\\s+\\d{4}-`, "m"))
    const replicas = c.status.instanceNames!.filter((n) => n !== primary)
    const replication = text.split("Streaming Replication status\n")[1]!.split("\n\n")[0]!
    for (const r of replicas) expect(replication).toMatch(new RegExp(`^${r}\\s+\\d+/[0-9A-F]+\\s+\\d+/[0-9A-F]+\\s+\\d+/[0-9A-F]+\\s+\\d+/[0-9A-F]+\\s.*streaming\\s+async`, "m"))
    const instances = text.split("Instances status\n")[1]!
    expect(instances).toMatch(new RegExp(`^${primary}\\s+\\d+/[0-9A-F]+\\s+Primary\\s+OK\\s+no\\s+lk-node-\\d\\s+Running$`, "m"))
    for (const r of replicas) expect(instances).toMatch(new RegExp(`^${r}\\s+\\d+/[0-9A-F]+\\s+Standby \\(async\\)\\s+OK\\s+no\\s+lk-node-\\d\\s+Running$`, "m"))
    expect(text).not.toContain("\u001b[") // not a terminal: no colour
  }, minute)

  test("-o json and -o yaml carry the same report; -v adds the PDBs", async () => {
    const json = JSON.parse(await ok("status", "mycluster", "-n", ns, "-o", "json", "-v"))
    expect(json.instances.map((i: { name: string }) => i.name)).toEqual(["mycluster-1", "mycluster-2", "mycluster-3"])
    expect(json.pdbs.map((p: { name: string }) => p.name).sort()).toEqual(["mycluster", "mycluster-primary"])
    const yaml = parse(await ok("status", "mycluster", "-n", ns, "-o", "yaml"))
    expect(yaml.summary.systemId).toBe(json.summary.systemId)
  }, minute)
})

describe("psql", () => {
  test("runs psql on the primary, or a replica, with the Cluster's Secret", async () => {
    expect((await ok("psql", "mycluster", "-n", ns, "--", "-At", "-c", "select pg_is_in_recovery()")).trim()).toBe("f")
    expect((await ok("psql", "mycluster", "-n", ns, "--replica", "--", "-At", "-c", "select pg_is_in_recovery()")).trim()).toBe("t")
  }, minute)

  test("psql's own failure comes through as psql reported it", async () => {
    const r = await tusk("psql", "mycluster", "-n", ns, "--", "-c", "select 1/0")
    expect(r.code).toBe(1)
    expect(r.err).toBe("ERROR:  division by zero\n")
  }, minute)
})

describe("promote", () => {
  test("drives a real switchover: currentPrimary changes and writes continue", async () => {
    await sql("create table if not exists plugin_writes (id int primary key)")
    await sql("insert into plugin_writes values (1)")
    const before = await cluster()
    const to = before.status.instanceNames!.find((n) => n !== before.status.currentPrimary)!
    const out = await ok("promote", "mycluster", to, "-n", ns, "--wait", "--timeout", "120")
    expect(out).toContain(`${to} is the primary`)
    expect((await cluster()).status.currentPrimary).toBe(to)
    // Retried until -rw reaches the new primary; a retry after an unseen success must not fail.
    await eventually("a write through -rw on the new primary", async () => (await sql("insert into plugin_writes values (2) on conflict do nothing"), true), minute)
    expect(await sql("select string_agg(id::text, ',' order by id) from plugin_writes")).toBe("1,2")
    await eventually("the cluster to be healthy again", healthy, 3 * minute)
  }, 5 * minute)

  test("refuses the primary and unknown instances, with exit code 1", async () => {
    const primary = (await cluster()).status.currentPrimary!
    const self = await tusk("promote", "mycluster", primary, "-n", ns)
    expect([self.code, self.err]).toEqual([1, `error: cannot promote: ${primary} is already the primary\n`])
    expect((await tusk("promote", "mycluster", "mycluster-9", "-n", ns)).code).toBe(1)
  }, minute)
})

describe("fencing", () => {
  const ready = async (pod: string) =>
    (await env.kubectl(["-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])).trim()

  test("on stops the instance (pod NotReady, shown Fenced); off brings it back", async () => {
    const c = await cluster()
    const replica = c.status.instanceNames!.find((n) => n !== c.status.currentPrimary)!
    expect(await ok("fencing", "on", "mycluster", replica, "-n", ns)).toContain(`Fenced instances of mycluster: ${replica}`)
    await eventually("the fenced pod to be NotReady", async () => (await ready(replica)) === "False" ? true : undefined, 2 * minute, 250)
    const text = await ok("status", "mycluster", "-n", ns)
    expect(text).toMatch(new RegExp(`^Fenced instances:\\s+${replica}$`, "m"))
    expect(text).toMatch(new RegExp(`^${replica}\\s+-\\s+Fenced\\s+Fenced`, "m"))
    expect(await ok("fencing", "off", "mycluster", replica, "-n", ns)).toContain("Fenced instances of mycluster: none")
    await eventually("the pod to be Ready again", async () => (await ready(replica)) === "True" ? true : undefined, 2 * minute, 250)
    await eventually("the cluster to be healthy again", healthy, 2 * minute)
  }, 5 * minute)
})

describe("report, restart, reload, exit codes", () => {
  test("report: a zip with the Cluster, objects, events and instance statuses; Secret values removed", async () => {
    const file = `/tmp/tusk-plugin-report-${process.pid}.zip`
    await ok("report", "mycluster", "-n", ns, "-f", file)
    const entries = unzipSync(new Uint8Array(await Bun.file(file).arrayBuffer()))
    await Bun.file(file).delete()
    const names = Object.keys(entries)
    for (const f of ["cluster.yaml", "status.txt", "status.json", "events.yaml", "objects/secrets/mycluster-app.yaml", "instances/mycluster-1.json"]) {
      expect(names).toContain(`report_mycluster/${f}`)
    }
    const password = (await env.kubectl(["-n", ns, "get", "secret", "mycluster-app", "-o", "jsonpath={.data.password}"])).trim()
    const all = Object.values(entries).map((b) => new TextDecoder().decode(b)).join("\n")
    expect(password.length).toBeGreaterThan(10)
    expect(all).not.toContain(password)
    expect(all).not.toContain(Buffer.from(password, "base64").toString("utf8"))
    expect(new TextDecoder().decode(entries["report_mycluster/objects/secrets/mycluster-app.yaml"]!)).toContain("password: <redacted>")
  }, minute)

  test("restart of one instance: its pod is recreated on the same volume and comes back Ready", async () => {
    const c = await cluster()
    const replica = c.status.instanceNames!.find((n) => n !== c.status.currentPrimary)!
    const uid = (kind: string) => env.kubectl(["-n", ns, "get", kind, replica, "-o", "jsonpath={.metadata.uid}"])
    const [podBefore, pvcBefore] = [await uid("pod"), await uid("pvc")]
    expect(await ok("restart", "mycluster", replica, "-n", ns)).toContain(`Pod ${replica} deleted`)
    await eventually("a new pod, Ready", async () => {
      const pod = await env.json<{ metadata: { uid: string }; status: { conditions?: Array<{ type: string; status: string }> } }>(["-n", ns, "get", "pod", replica])
      return pod.metadata.uid !== podBefore && pod.status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ? true : undefined
    }, 3 * minute, 500)
    expect(await uid("pvc")).toBe(pvcBefore)
    await eventually("the cluster to be healthy again", healthy, 2 * minute)
  }, 5 * minute)

  test("restart recreates every instance pod and the Cluster ends healthy; reload sets its annotation", async () => {
    const uids = async () =>
      (await env.json<{ items: Array<{ metadata: { name: string; uid: string } }> }>(["-n", ns, "get", "pods", "-l", "tusk.dev/podRole=instance"]))
        .items.map((p) => p.metadata.uid)
    const before = await uids()
    await ok("restart", "mycluster", "-n", ns)
    await ok("reload", "mycluster", "-n", ns)
    const annotations = (await env.json<{ metadata: { annotations: Record<string, string> } }>(["-n", ns, "get", "cluster", "mycluster"])).metadata.annotations
    expect(Date.parse(annotations["tusk.dev/restartedAt"]!)).toBeGreaterThan(Date.now() - minute)
    expect(Date.parse(annotations["tusk.dev/reloadedAt"]!)).toBeGreaterThan(Date.now() - minute)
    await eventually("every instance pod recreated", async () => {
      const now = await uids()
      return now.length === 3 && now.every((u) => !before.includes(u)) ? true : undefined
    }, 4 * minute, 1000)
    await eventually("the cluster to be healthy again", healthy, 2 * minute)
  }, 7 * minute)

  test("0 ok, 1 error with a hint, 2 usage; --help has examples", async () => {
    expect((await tusk("version")).code).toBe(0)
    const missing = await tusk("status", "nope", "-n", ns)
    expect(missing.code).toBe(1)
    expect(missing.err).toContain(`error: Cluster nope not found in namespace ${ns}`)
    expect(missing.err).toContain("hint: list the clusters with")
    expect((await tusk("status")).code).toBe(2)
    expect((await tusk("frobnicate")).code).toBe(2)
    expect((await tusk("status", "mycluster", "-o", "xml")).code).toBe(2)
    const help = await tusk("promote", "--help")
    expect(help.code).toBe(0)
    expect(help.out).toContain("kubectl tusk promote mycluster mycluster-2 --wait")
  }, minute)
})
