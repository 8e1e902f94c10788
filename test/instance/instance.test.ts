/**
 * The instance manager against real PostgreSQL 15: three `tusk instance` processes on loopback
 * (run as the postgres user), one Cluster file as the source of truth. The steps build on each
 * other: init, join, replicate, monitor, reconfigure, switch over, rewind, re-clone, shut down.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { lsnToBigInt } from "../../src/instance/status/PgStatus.ts"
import { appPassword, eventually, TestCluster, tuskCommand, tuskExecutable, type Proc } from "./Harness.ts"
import { PrimaryWatch } from "./PrimaryWatch.ts"

let cluster: TestCluster
const runs = new Map<string, Proc>()
let watch: PrimaryWatch

const startRun = (name: string) => {
  const p = cluster.spawn("run", name)
  runs.set(name, p)
  return p
}

const currentPrimary = () => cluster.readCluster().status.currentPrimary

/** Wait until `name` is a standby streaming from `from` (as the primary's pg_stat_replication says). */
const streamingFrom = (name: string, from: string, timeoutMs = 60_000) =>
  eventually(`${name} streaming from ${from}`, async () => {
    const s = await cluster.pgStatus(from)
    return s.replication.some((r) => r.applicationName === name && r.state === "streaming") ? true : undefined
  }, timeoutMs, 100)

const rowCount = (name: string, table: string) =>
  cluster.once(name, async (sql) => Number((await sql.unsafe(`select count(*) as n from ${table}`))[0]?.["n"]))

const pgControlState = (name: string) => {
  const r = Bun.spawnSync(["/usr/lib/postgresql/15/bin/pg_controldata", cluster.pgdata(name)], { env: { LC_ALL: "C" } })
  return /Database cluster state:\s+(.*)/.exec(r.stdout.toString())?.[1]?.trim()
}

beforeAll(() => {
  cluster = new TestCluster(3)
})

afterAll(async () => {
  await watch?.stop()
  await cluster.destroy()
})

describe("tusk instance", () => {
  test("init bootstraps per the S2 spec and is idempotent", async () => {
    await cluster.runToEnd("init", "c-1")
    const again = await cluster.runToEnd("init", "c-1")
    expect(again.lines.some((l) => l.includes("nothing to do"))).toBe(true)
  }, 120_000)

  test("run: the primary comes up with TLS 1.3, SCRAM passwords and the S2 settings", async () => {
    startRun("c-1")
    await eventually("c-1 ready", async () => ((await cluster.status("c-1", "/readyz")).status === 200 ? true : undefined))
    await eventually("currentPrimary c-1", async () => (currentPrimary() === "c-1" ? true : undefined))
    expect((await cluster.status("c-1", "/healthz")).status).toBe(200)

    // \l through real psql over TCP.
    const port = String(cluster.ports.get("c-1")!.pg)
    const psql = Bun.spawnSync(["psql", "-X", "-A", "-t", "-F", "|", "-c", "\\l", `host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=require`])
    const list = psql.stdout.toString()
    expect(list).toContain("app|app|UTF8|C|C|")
    expect(list).toMatch(/postgres\|postgres\|UTF8\|C\|C\|/)

    // The application owner logs in with its password over SCRAM and TLS 1.3; a wrong password fails.
    const app = await cluster.once("c-1", async (sql) => {
      const [row] = await sql`select current_user as u, s.version as tls, current_setting('timezone') as tz,
        current_setting('max_worker_processes') as mwp from pg_stat_ssl s where s.pid = pg_backend_pid()`
      return row
    }, { user: "app", database: "app", password: appPassword })
    expect(app).toEqual({ u: "app", tls: "TLSv1.3", tz: "Asia/Seoul", mwp: "40" })
    const wrong = cluster.once("c-1", (sql) => sql`select 1`, { user: "app", database: "app", password: "nope" })
    await expect(wrong).rejects.toThrow(/password authentication failed/)
    const verifiers = await cluster.once("c-1", (sql) => sql`select rolname, rolpassword like 'SCRAM-SHA-256$%' as scram from pg_authid where rolname in ('app', 'postgres') order by 1`)
    expect(verifiers.map((r) => [r["rolname"], r["scram"]])).toEqual([["app", true], ["postgres", true]])
    // TLS below 1.3 is refused.
    const tls12 = Bun.spawnSync(["psql", "-X", "-c", "select 1", `host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=require ssl_max_protocol_version=TLSv1.2`])
    expect(tls12.exitCode).not.toBe(0)
    // Certificates are written with 0600.
    const mode = Bun.spawnSync(["stat", "-c", "%a", `${cluster.dir}/c-1/certificates/server.key`]).stdout.toString().trim()
    expect(mode).toBe("600")
  }, 60_000)

  test("join clones the primary with the replication certificate; two replicas stream", async () => {
    await cluster.runToEnd("join", "c-2")
    // A join that died half-way leaves its scratch directory behind: the retry starts over.
    mkdirSync(`${cluster.pgdata("c-3")}.clone/base`, { recursive: true })
    writeFileSync(`${cluster.pgdata("c-3")}.clone/base/garbage`, "x")
    Bun.spawnSync(["chown", "-R", "101:104", `${cluster.dir}/c-3`])
    await cluster.runToEnd("join", "c-3")
    const again = await cluster.runToEnd("join", "c-3")
    expect(again.lines.some((l) => l.includes("nothing to do"))).toBe(true)
    startRun("c-2")
    startRun("c-3")
    await streamingFrom("c-2", "c-1")
    await streamingFrom("c-3", "c-1")
    // Streaming starts before the standby accepts connections; its role follows.
    const status = await eventually("c-2 a standby", async () => {
      const st = await cluster.pgStatus("c-2")
      return st.role === "Standby" ? st : undefined
    })
    expect(status.walReceiverActive).toBe(true)
    expect(status.walReceiver?.slotName).toBe("_tusk_c_2")
    watch = new PrimaryWatch(cluster)
  }, 120_000)

  test("a write on the primary is readable on both replicas and the LSNs move", async () => {
    const before = await Promise.all(["c-1", "c-2", "c-3"].map((n) => cluster.pgStatus(n)))
    await cluster.once("c-1", async (sql) => {
      await sql`create table t1 (id int, name text)`
      await sql`insert into t1 select g, 'row ' || g from generate_series(1, 100) g`
    })
    for (const n of ["c-2", "c-3"]) await eventually(`rows on ${n}`, async () => ((await rowCount(n, "t1")) === 100 ? true : undefined))
    const after = await Promise.all(["c-1", "c-2", "c-3"].map((n) => cluster.pgStatus(n)))
    for (let i = 0; i < 3; i++) {
      expect(lsnToBigInt(after[i]!.currentLsn!)).toBeGreaterThan(lsnToBigInt(before[i]!.currentLsn!))
    }
    expect(after[0]!.replication.map((r) => r.applicationName)).toEqual(["c-2", "c-3"])
    expect(after[1]!.timeline).toBe(1)
    expect(after[1]!.systemId).toBe(after[0]!.systemId)
  }, 60_000)

  test("metrics parse, show replication lag, and one bad custom query does not break the scrape", async () => {
    cluster.writeObject("custom-queries", {
      queries: "good:\n  query: select 42 as answer\n  metrics:\n    - answer: { usage: GAUGE, description: The answer }\nbad:\n  query: select * from no_such_table\n  metrics:\n    - x: { usage: GAUGE }\n"
    })
    cluster.updateCluster((d) => {
      d.spec.monitoring = { customQueriesConfigMap: [{ name: "custom-queries", key: "queries" }] }
    })
    const sampleLine = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/
    const primary = await eventually("custom metrics", async () => {
      const text = await cluster.metrics("c-1")
      return text.includes("tusk_good_answer 42") ? text : undefined
    }, 15_000, 200)
    for (const line of primary.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) expect(line).toMatch(sampleLine)
    expect(primary).toMatch(/tusk_collector_errors_total\{query="bad"\} [1-9]/)
    expect(primary).toContain("tusk_collector_up 1")
    expect(primary).toMatch(/tusk_pg_stat_replication_replay_diff_bytes\{application_name="c-2",[^}]*\} \d+/)
    expect(primary).toMatch(/tusk_pg_database_size_bytes\{datname="app"\} \d+/)
    expect(primary).toMatch(/tusk_pg_backends_total \d+/)
    expect(primary).toMatch(/tusk_backends_total\{datname="postgres",[^}]*\} \d+/)
    const replica = await cluster.metrics("c-2")
    expect(replica).toMatch(/tusk_pg_replication_lag \d/)
    expect(replica).toContain("tusk_pg_replication_in_recovery 1")
    expect(replica).toContain("tusk_pg_replication_is_wal_receiver_up 1")
    expect(replica).not.toContain("tusk_pg_stat_replication_")
  }, 60_000)

  test("reload when enough, pendingRestart when PostgreSQL needs a restart, owned parameters refused", async () => {
    const show = (name: string, p: string) => cluster.once(name, async (sql) => String((await sql.unsafe(`show ${p}`))[0]?.[p]))
    const sharedBuffers = await show("c-1", "shared_buffers")
    const maxConnections = await show("c-1", "max_connections")
    const pid = (await cluster.pgStatus("c-1")).postmasterRunning
    expect(pid).toBe(true)
    cluster.updateCluster((d) => {
      d.spec.postgresql!.parameters = { ...d.spec.postgresql!.parameters, work_mem: "7MB", statement_timeout: "123s", shared_buffers: "64MB", max_connections: "120", port: "1" }
    })
    for (const n of cluster.names) {
      await eventually(`work_mem on ${n}`, async () => ((await show(n, "work_mem")) === "7MB" ? true : undefined))
      expect(await show(n, "statement_timeout")).toBe("123s")
      const s = await eventually(`pendingRestart on ${n}`, async () => {
        const st = await cluster.pgStatus(n)
        return st.pendingRestart ? st : undefined
      })
      expect(s.pendingRestartParameters).toEqual(["max_connections", "shared_buffers"])
      expect(s.refusedParameters).toEqual(["port"])
      expect(await show(n, "shared_buffers")).toBe(sharedBuffers)
    }
    // Back to the running values: nothing is pending any more. (Removing a restart-only
    // parameter from the file would leave PostgreSQL reporting a pending restart.)
    cluster.updateCluster((d) => {
      const { port: _p, ...rest } = d.spec.postgresql!.parameters!
      d.spec.postgresql!.parameters = { ...rest, shared_buffers: sharedBuffers, max_connections: maxConnections }
    })
    for (const n of cluster.names) {
      await eventually(`no pendingRestart on ${n}`, async () => (!(await cluster.pgStatus(n)).pendingRestart ? true : undefined))
    }
    // A reload asked through the Cluster's annotation, with no file changed.
    cluster.updateCluster((d) => {
      d.metadata.annotations = { "tusk.dev/reloadedAt": new Date().toISOString() }
    })
    await eventually("requested reload", async () =>
      cluster.logs(runs.get("c-3")!).some((l) => l["msg"] === "configuration reloaded" && l["requested"] === true) ? true : undefined)
  }, 60_000)

  test("a renewed server certificate reaches PostgreSQL (reload) and the status API", async () => {
    const ports = cluster.ports.get("c-2")!
    const before = cluster.presentedSerial(ports.pg, "postgres")
    expect(before).toStartWith("serial=")
    const serial = cluster.renewServerCertificate()
    expect(serial).not.toBe(before)
    await eventually("PostgreSQL presents the new certificate", async () => (cluster.presentedSerial(ports.pg, "postgres") === serial ? true : undefined), 15_000, 200)
    await eventually("the status API presents the new certificate", async () => (cluster.presentedSerial(ports.status) === serial ? true : undefined), 20_000, 500)
    expect((await cluster.status("c-2", "/readyz")).status).toBe(200)
  }, 60_000)

  test("switchover: the target promotes, the old primary stops at once, then follows", async () => {
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-2"
    })
    const started = performance.now()
    await eventually("write on c-2", () => cluster.once("c-2", (sql) => sql`insert into t1 values (101, 'after switchover')`).then(() => true), 30_000, 20)
    const promoteMs = performance.now() - started
    expect(promoteMs).toBeLessThan(10_000)
    await eventually("currentPrimary c-2", async () => (currentPrimary() === "c-2" ? true : undefined))
    await streamingFrom("c-1", "c-2")
    await streamingFrom("c-3", "c-2")
    for (const n of ["c-1", "c-3"]) await eventually(`row 101 on ${n}`, async () => ((await rowCount(n, "t1")) === 101 ? true : undefined))
    await eventually("c-1 on timeline 2", async () => ((await cluster.pgStatus("c-1")).timeline === 2 ? true : undefined))
    expect(watch.overlaps).toEqual([])
  }, 90_000)

  test("with no operator confirming, a former primary reports its own stop and the hand-over completes", async () => {
    await cluster.once("c-2", (sql) => sql`create table handover (id int)`)
    cluster.operatorConfirms = false
    try {
      for (const [from, to, row] of [["c-2", "c-3", 102], ["c-3", "c-2", 103]] as const) {
        cluster.updateCluster((d) => {
          d.status.targetPrimary = to
        })
        await eventually(`write on ${to}`, () => cluster.once(to, (sql) => sql`insert into handover values (${row})`).then(() => true), 30_000, 20)
        await eventually(`currentPrimary ${to}`, async () => (currentPrimary() === to ? true : undefined))
        expect(cluster.readCluster().status.formerPrimaryStopped).toBe(from)
        await streamingFrom(from, to)
      }
      expect(watch.overlaps).toEqual([])
    } finally {
      cluster.operatorConfirms = true
    }
  }, 90_000)

  test("a diverged former primary is rewound and follows the new timeline", async () => {
    // Replicas stop (fenced), so only the primary c-2 gets the next rows.
    cluster.updateCluster((d) => {
      d.metadata.annotations = { "tusk.dev/fencedInstances": "c-1,c-3" }
    })
    for (const n of ["c-1", "c-3"]) {
      await eventually(`${n} fenced and not ready`, async () => {
        const st = await cluster.pgStatus(n)
        return st.role === "Fenced" && !st.postmasterRunning && (await cluster.status(n, "/readyz")).status === 503 ? true : undefined
      })
    }
    const timeline = (await cluster.pgStatus("c-2")).timeline ?? 0
    await cluster.once("c-2", (sql) => sql`insert into t1 select g, 'diverged' from generate_series(1000, 1099) g`)
    expect(await rowCount("c-2", "t1")).toBe(201)
    // c-1 is named while still fenced: c-2 stops at once and waits.
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-1"
    })
    await eventually("c-2 stopped", async () => {
      const st = await cluster.pgStatus("c-2")
      return !st.postmasterRunning && st.role === "Demoting" ? true : undefined
    })
    cluster.updateCluster((d) => {
      delete d.metadata.annotations
    })
    await eventually("currentPrimary c-1", async () => (currentPrimary() === "c-1" ? true : undefined), 30_000)
    await streamingFrom("c-2", "c-1")
    await streamingFrom("c-3", "c-1")
    const logs = cluster.logs(runs.get("c-2")!)
    expect(logs.some((l) => l["msg"] === "rewound")).toBe(true)
    expect(logs.some((l) => String(l["msg"]).includes("re-cloning"))).toBe(false)
    // The diverged rows are gone; writes on the new primary reach the rewound one.
    await cluster.once("c-1", (sql) => sql`insert into t1 values (102, 'after rewind')`)
    await eventually("c-2 caught up", async () => ((await rowCount("c-2", "t1")) === 102 ? true : undefined))
    await eventually("c-2 on the next timeline", async () => ((await cluster.pgStatus("c-2")).timeline === timeline + 1 ? true : undefined))
    expect(watch.overlaps).toEqual([])
  }, 120_000)

  test("with rewind impossible the former primary is re-cloned", async () => {
    // Stop the primary cleanly, destroy the WAL pg_rewind would need, and fail over.
    const stopped = await cluster.terminate(runs.get("c-1")!)
    expect(stopped.code).toBe(0)
    expect(pgControlState("c-1")).toBe("shut down")
    for (const f of cluster.walFiles("c-1")) rmSync(`${cluster.pgdata("c-1")}/pg_wal/${f}`)
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-3"
    })
    await eventually("currentPrimary c-3", async () => (currentPrimary() === "c-3" ? true : undefined), 30_000)
    startRun("c-1")
    await streamingFrom("c-1", "c-3", 90_000)
    await streamingFrom("c-2", "c-3")
    const logs = cluster.logs(runs.get("c-1")!)
    expect(logs.some((l) => String(l["msg"]).includes("re-cloning"))).toBe(true)
    await cluster.once("c-3", (sql) => sql`insert into t1 values (103, 'after re-clone')`)
    await eventually("c-1 caught up", async () => ((await rowCount("c-1", "t1")) === 103 ? true : undefined))
    expect(watch.overlaps).toEqual([])
    expect(watch.samples).toBeGreaterThan(10)
  }, 150_000)

  test("a crashed primary is rewound after a failover (pg_rewind recovers it first)", async () => {
    const manager = runs.get("c-3")!
    const postmasterPid = Number(readFileSync(`${cluster.pgdata("c-3")}/postmaster.pid`, "utf8").split("\n")[0])
    manager.proc.kill("SIGKILL")
    process.kill(postmasterPid, "SIGKILL")
    await manager.exited
    await eventually("c-3 postmaster gone", async () => {
      try {
        process.kill(postmasterPid, 0)
        return undefined
      } catch {
        return true
      }
    })
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-2"
    })
    await eventually("currentPrimary c-2", async () => (currentPrimary() === "c-2" ? true : undefined), 30_000)
    expect(pgControlState("c-3")).toBe("in production")
    startRun("c-3")
    await streamingFrom("c-3", "c-2", 90_000)
    await streamingFrom("c-1", "c-2")
    expect(cluster.logs(runs.get("c-3")!).some((l) => l["msg"] === "rewound")).toBe(true)
    expect(watch.overlaps).toEqual([])
  }, 150_000)

  test("a standby that replayed past the new primary's fork point is rewound and follows it", async () => {
    // c-1 stops (fenced) while c-3 replays more of c-2's WAL: promoted, c-1 forks before what c-3 has.
    cluster.updateCluster((d) => {
      d.metadata.annotations = { "tusk.dev/fencedInstances": "c-1" }
    })
    await eventually("c-1 fenced", async () => ((await cluster.pgStatus("c-1")).postmasterRunning ? undefined : true))
    await cluster.once("c-2", (sql) => sql`create table ahead as select g as id from generate_series(1, 100) g`)
    await eventually("c-3 replayed the table", () => rowCount("c-3", "ahead").then((n) => (n === 100 ? true : undefined), () => undefined))
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-1"
    })
    await eventually("c-2 stopped", async () => ((await cluster.pgStatus("c-2")).postmasterRunning ? undefined : true))
    cluster.updateCluster((d) => {
      delete d.metadata.annotations
    })
    await eventually("currentPrimary c-1", async () => (currentPrimary() === "c-1" ? true : undefined), 30_000)
    await streamingFrom("c-3", "c-1")
    await streamingFrom("c-2", "c-1")
    const logs = cluster.logs(runs.get("c-3")!)
    expect(logs.some((l) => String(l["msg"]).includes("not in the primary's history"))).toBe(true)
    expect(logs.some((l) => l["msg"] === "rewound")).toBe(true)
    // What only c-3 had is gone; what c-1 writes now reaches it.
    await cluster.once("c-1", (sql) => sql`insert into t1 values (104, 'after the standby rewind')`)
    await eventually("c-3 caught up", async () => ((await rowCount("c-3", "t1")) === 104 ? true : undefined))
    expect((await cluster.once("c-3", (sql) => sql`select to_regclass('ahead') is null as gone`))[0]?.["gone"]).toBe(true)
    // Back to c-2 leading, as the tests below expect.
    cluster.updateCluster((d) => {
      d.status.targetPrimary = "c-2"
    })
    await eventually("currentPrimary c-2", async () => (currentPrimary() === "c-2" ? true : undefined), 30_000)
    await streamingFrom("c-1", "c-2")
    await streamingFrom("c-3", "c-2")
    expect(watch.overlaps).toEqual([])
  }, 150_000)

  test("instance status prints /pg/status; bootstrap copies the executable; root is refused", async () => {
    const p = cluster.ports.get("c-2")!
    const status = Bun.spawnSync([...tuskCommand, "instance", "status", "--cert-dir", `${cluster.dir}/c-2/certificates`, "--status-port", String(p.status)])
    expect(status.exitCode).toBe(0)
    expect(JSON.parse(status.stdout.toString())).toMatchObject({ instanceName: "c-2", role: "Primary", isPrimary: true })
    const dest = `${cluster.dir}/bootstrap/tusk`
    mkdirSync(`${cluster.dir}/bootstrap`)
    expect(Bun.spawnSync([...tuskCommand, "bootstrap", dest]).exitCode).toBe(0)
    expect(existsSync(dest)).toBe(true)
    expect(statSync(dest).mode & 0o777).toBe(0o755)
    expect(statSync(dest).size).toBe(statSync(realpathSync(tuskExecutable)).size)
    const asRoot = Bun.spawnSync([...tuskCommand, "instance", "run", ...cluster.args("c-1")])
    expect(asRoot.exitCode).not.toBe(0)
    expect(asRoot.stdout.toString() + asRoot.stderr.toString()).toContain("must run as the postgres user")
  }, 60_000)

  test("SIGTERM shuts down cleanly: no crash recovery on the next start", async () => {
    await watch.stop()
    for (const n of ["c-1", "c-2", "c-3"]) {
      const r = await cluster.terminate(runs.get(n)!)
      expect(r.code).toBe(0)
    }
    expect(pgControlState("c-2")).toBe("shut down")
    expect(pgControlState("c-1")).toBe("shut down in recovery")
    expect(pgControlState("c-3")).toBe("shut down in recovery")
    const p = startRun("c-2")
    await eventually("c-2 ready again", async () => ((await cluster.status("c-2", "/readyz")).status === 200 ? true : undefined))
    const text = p.lines.join("\n")
    expect(text).not.toContain("not properly shut down")
    expect(text).toContain("database system was shut down at")
    expect(readFileSync(`${cluster.pgdata("c-2")}/postgresql.conf`, "utf8")).toContain("ssl_min_protocol_version = 'TLSv1.3'")
  }, 90_000)

  test("a postmaster that cannot start is retried with back-off, and starts once the spec is fixed", async () => {
    expect((await cluster.terminate(runs.get("c-2")!)).code).toBe(0)
    cluster.updateCluster((d) => {
      d.spec.postgresql!.parameters = { ...d.spec.postgresql!.parameters, shared_buffers: "bogus" }
    })
    const p = startRun("c-2")
    await Bun.sleep(4000)
    const exits = cluster.logs(p).filter((l) => l["msg"] === "postmaster exited").length
    expect(exits).toBeGreaterThanOrEqual(2)
    expect(exits).toBeLessThanOrEqual(6)
    expect((await cluster.status("c-2", "/readyz")).status).toBe(503)
    expect((await cluster.status("c-2", "/healthz")).status).toBe(200)
    cluster.updateCluster((d) => {
      const { shared_buffers: _bad, ...rest } = d.spec.postgresql!.parameters!
      d.spec.postgresql!.parameters = rest
    })
    await eventually("c-2 ready after the fix", async () => ((await cluster.status("c-2", "/readyz")).status === 200 ? true : undefined), 40_000, 200)
  }, 90_000)
})
