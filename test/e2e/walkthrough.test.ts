/**
 * Scenarios S1–S5 and S9 of the walkthrough, end to end: the operator installed from
 * manifests/, the sample Cluster applied with kubectl, psql from a client pod.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { parse } from "yaml"
import { type Environment, environment, eventually, namespaceWithClient } from "./support/Environment.ts"

const minute = 60_000
let env: Environment
let ns: string
/** The order in which the Jobs and pods of the cluster first appeared. */
const appeared: Array<string> = []

const sample = parse(await Bun.file(new URL("../../manifests/samples/cluster-example.yaml", import.meta.url)).text())

interface Named {
  metadata: { name: string; labels?: Record<string, string>; creationTimestamp: string }
}
interface List<A> {
  items: Array<A>
}

const psql = async (args: ReadonlyArray<string>, password?: string) => {
  const argv = ["env", ...(password !== undefined ? [`PGPASSWORD=${password}`] : []), "psql", "-X", "-v", "ON_ERROR_STOP=1", ...args]
  const r = await env.execIn(ns, "client", argv)
  if (r.exitCode !== 0) throw new Error(`psql ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`)
  return r.stdout
}

const secret = async (name: string) => {
  const s = await env.json<{ type: string; data: Record<string, string> }>(["-n", ns, "get", "secret", name])
  return { type: s.type, data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])) }
}

beforeAll(async () => {
  env = await environment()
  ns = await namespaceWithClient(env, "walk")
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(sample))
  // Record what appears, in order, until the cluster is healthy.
  await eventually(
    "mycluster to become healthy",
    async () => {
      const names = (await env.kubectl(["-n", ns, "get", "jobs,pods", "-o", "name"])).split("\n")
      for (const n of names) {
        const short = n.replace(/^(job\.batch|pod)\//, "")
        if (/^mycluster-\d+(-initdb|-join)?$/.test(short) && !appeared.includes(short)) appeared.push(short)
      }
      const phase = await env.kubectl(["-n", ns, "get", "cluster", "mycluster", "-o", "jsonpath={.status.phase}"])
      return phase === "Cluster in healthy state" ? phase : undefined
    },
    6 * minute,
    250,
  )
}, 10 * minute)

afterAll(async () => {
  if (ns !== undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
})

describe("S1 install", () => {
  test("the operator runs in tusk-system, ready, holding one Lease", async () => {
    const deployment = await env.json<{ status: { readyReplicas?: number } }>(["-n", "tusk-system", "get", "deployment", "tusk-controller"])
    expect(deployment.status.readyReplicas).toBe(1)
    const pods = await env.json<List<Named & { status: { phase: string } }>>(["-n", "tusk-system", "get", "pods", "-l", "app.kubernetes.io/name=tusk"])
    const lease = await env.json<{ spec: { holderIdentity: string } }>(["-n", "tusk-system", "get", "lease", "tusk-controller"])
    expect(pods.items.map((p) => p.metadata.name)).toContain(lease.spec.holderIdentity)
  })

  test("the CRDs and the default monitoring ConfigMap are installed", async () => {
    const crds = (await env.kubectl(["get", "crd", "-o", "name"])).split("\n").filter((n) => n.endsWith("postgresql.tusk.dev"))
    expect(crds.map((c) => c.split("/")[1]!.split(".")[0]).sort()).toEqual(["backups", "clusters", "poolers", "scheduledbackups"])
    const cm = await env.json<{ data: { queries: string } }>(["-n", "tusk-system", "get", "configmap", "tusk-default-monitoring"])
    expect(cm.data.queries).toContain("query:")
  })
})

describe("S2 create a cluster", () => {
  test("initdb, then the first pod, then one join and pod at a time", () => {
    expect(appeared).toEqual(["mycluster-1-initdb", "mycluster-1", "mycluster-2-join", "mycluster-2", "mycluster-3-join", "mycluster-3"])
  })

  test("Jobs completed; pods Running with every container ready", async () => {
    const jobs = await env.json<List<Named & { status: { succeeded?: number } }>>(["-n", ns, "get", "jobs"])
    expect(jobs.items.map((j) => [j.metadata.name, j.status.succeeded]).sort()).toEqual([
      ["mycluster-1-initdb", 1],
      ["mycluster-2-join", 1],
      ["mycluster-3-join", 1],
    ])
    const pods = await env.json<List<Named & { status: { phase: string; containerStatuses: Array<{ ready: boolean }> } }>>(
      ["-n", ns, "get", "pods", "-l", "tusk.dev/podRole=instance"],
    )
    expect(pods.items.map((p) => p.metadata.name).sort()).toEqual(["mycluster-1", "mycluster-2", "mycluster-3"])
    for (const p of pods.items) {
      expect(p.status.phase).toBe("Running")
      expect(p.status.containerStatuses.every((c) => c.ready)).toBe(true)
    }
  })

  test("PVCs Bound; -rw, -ro and -r Services on 5432", async () => {
    const pvcs = await env.json<List<Named & { status: { phase: string } }>>(["-n", ns, "get", "pvc"])
    expect(pvcs.items.map((p) => [p.metadata.name, p.status.phase]).sort()).toEqual([
      ["mycluster-1", "Bound"],
      ["mycluster-2", "Bound"],
      ["mycluster-3", "Bound"],
    ])
    const services = await env.json<List<Named & { spec: { type: string; ports: Array<{ port: number }> } }>>(["-n", ns, "get", "svc"])
    const ours = services.items.filter((s) => s.metadata.name.startsWith("mycluster-"))
    expect(ours.map((s) => s.metadata.name).sort()).toEqual(["mycluster-r", "mycluster-ro", "mycluster-rw"])
    for (const s of ours) expect([s.spec.type, s.spec.ports.map((p) => p.port)]).toEqual(["ClusterIP", [5432]])
  })

  test("kubectl get cluster shows instances, ready instances, phase and primary", async () => {
    const table = await env.kubectl(["-n", ns, "get", "cluster", "mycluster"])
    const [header, row] = table.trim().split("\n")
    expect(header!.split(/\s{2,}/)).toEqual(["NAME", "AGE", "INSTANCES", "READY", "STATUS", "PRIMARY"])
    const cells = row!.split(/\s{2,}/)
    expect([cells[0], cells[2], cells[3], cells[4], cells[5]]).toEqual(["mycluster", "3", "3", "Cluster in healthy state", "mycluster-1"])
  })
})

describe("S3 credentials", () => {
  test("app and superuser Secrets are basic-auth; the superuser is postgres", async () => {
    const names = (await env.kubectl(["-n", ns, "get", "secret", "-l", "tusk.dev/cluster=mycluster", "-o", "name"])).split("\n")
    expect(names).toEqual(expect.arrayContaining(["secret/mycluster-app", "secret/mycluster-superuser"]))
    const superuser = await secret("mycluster-superuser")
    const app = await secret("mycluster-app")
    expect(superuser.type).toBe("kubernetes.io/basic-auth")
    expect(app.type).toBe("kubernetes.io/basic-auth")
    expect(superuser.data.username).toBe("postgres")
    expect(superuser.data.password).toMatch(/^[A-Za-z0-9]{64}$/)
    expect(app.data.password).toMatch(/^[A-Za-z0-9]{64}$/)
  })

  test("the app password works with SCRAM and a wrong one does not", async () => {
    const app = await secret("mycluster-app")
    const who = await psql(["-At", "-h", "mycluster-rw", "-U", "app", "-d", "app", "-c", "select current_user"], app.data.password)
    expect(who.trim()).toBe("app")
    await expect(psql(["-At", "-h", "mycluster-rw", "-U", "app", "-d", "app", "-c", "select 1"], "wrong")).rejects.toThrow(/password authentication failed/)
    const method = await psql(["-At", "-h", "mycluster-rw", "-U", "postgres", "-c", "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'app'"])
    expect(method.trim()).toBe("t")
  })
})

describe("S4 connect", () => {
  test("\\conninfo reports TLSv1.3 through mycluster-rw", async () => {
    const out = await psql(["-U", "postgres", "-h", "mycluster-rw", "-p", "5432", "-c", "\\conninfo"])
    expect(out).toContain('You are connected to database "postgres" as user "postgres" on host "mycluster-rw"')
    expect(out).toMatch(/SSL connection \(protocol: TLSv1\.3/)
  })

  test("\\l lists app owned by app, UTF8, C, C", async () => {
    const out = await psql(["-At", "-U", "postgres", "-h", "mycluster-rw", "-c", "select datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype from pg_database order by 1"])
    expect(out.trim().split("\n")).toEqual([
      "app|app|UTF8|C|C",
      "postgres|postgres|UTF8|C|C",
      "template0|postgres|UTF8|C|C",
      "template1|postgres|UTF8|C|C",
    ])
  })

  test("settings from the manifest are in effect", async () => {
    const out = await psql(["-At", "-U", "postgres", "-h", "mycluster-rw", "-c", "show timezone", "-c", "show max_worker_processes"])
    expect(out.trim().split("\n")).toEqual(["Asia/Seoul", "40"])
  })
})

describe("S5 write to the primary, read from replicas", () => {
  test("rows inserted through -rw, one connection each, are counted through -ro", async () => {
    await psql(["-U", "postgres", "-h", "mycluster-rw", "-c", "create database test"])
    await psql(["-U", "postgres", "-h", "mycluster-rw", "-d", "test", "-c", "create table t1 (id int, name text)"])
    for (let i = 1; i <= 10; i++) {
      await psql(["-U", "postgres", "-h", "mycluster-rw", "-d", "test", "-c", `insert into t1 values (${i}, 'row ${i}')`])
    }
    const count = await eventually("replicas to have all rows", async () => {
      const out = await psql(["-At", "-U", "postgres", "-h", "mycluster-ro", "-d", "test", "-c", "select count(*), pg_is_in_recovery() from t1"])
      return out.trim() === "10|t" ? out.trim() : undefined
    }, 30_000)
    expect(count).toBe("10|t")
  })
})

describe("S9 monitoring", () => {
  test("each instance serves Prometheus metrics on 9187, with lag on the primary", async () => {
    const pods = await env.json<List<Named & { status: { podIP: string } }>>(["-n", ns, "get", "pods", "-l", "tusk.dev/podRole=instance"])
    // A scrape is retried a few times: on a loaded machine one may time out.
    const scrape = (ip: string) =>
      eventually(`metrics of ${ip}`, async () => {
        const r = await env.execIn(ns, "client", ["curl", "-sf", "--max-time", "10", `http://${ip}:9187/metrics`])
        return r.exitCode === 0 ? r.stdout : undefined
      }, 60_000)
    for (const p of pods.items) {
      const body = await scrape(p.status.podIP)
      expect(body).toMatch(/^tusk_collector_up 1$/m)
      expect(body).toMatch(/^tusk_pg_database_size_bytes\{datname="app"\} \d+/m)
    }
    const primary = pods.items.find((p) => p.metadata.labels?.["tusk.dev/instanceRole"] === "primary")!
    const metrics = await scrape(primary.status.podIP)
    expect(metrics).toMatch(/^tusk_pg_stat_replication_replay_diff_bytes\{[^}]*application_name="mycluster-2"[^}]*\} \d+/m)
  })

  test("a PodMonitor selects the instances", async () => {
    const monitor = await env.json<{ spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string }> } }>(
      ["-n", ns, "get", "podmonitor", "mycluster"],
    )
    expect(monitor.spec.selector.matchLabels).toEqual({ "tusk.dev/cluster": "mycluster", "tusk.dev/podRole": "instance" })
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: "metrics" }])
  })
})
