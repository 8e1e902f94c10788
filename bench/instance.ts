/**
 * Instance manager figures on real PostgreSQL 15 (three `tusk instance run` processes on
 * loopback, a file as the Cluster): promote time (targetPrimary named -> the target accepts
 * an INSERT; after a switchover and after the primary was killed), rewind time (pg_rewind of a diverged former primary, and named -> streaming
 * again), shutdown time (SIGTERM -> manager exited, primary and standby).
 * Run as root: `./node_modules/.bin/bun bench/instance.ts [runs]`. Writes bench/results/instance.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { eventually, TestCluster, type Proc } from "../test/instance/Harness.ts"

const runs = Number(process.argv[2] ?? "7")

const summary = (samples: ReadonlyArray<number>) => {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? NaN
  const round = (v: number) => Math.round(v * 10) / 10
  return { runs: s.length, medianMs: round(q(0.5)), minMs: round(s[0] ?? NaN), maxMs: round(s[s.length - 1] ?? NaN), p90Ms: round(q(0.9)), samplesMs: s.map(round) }
}

const cluster = new TestCluster(3)
const procs = new Map<string, Proc>()
const start = (n: string) => procs.set(n, cluster.spawn("run", n))
const primary = () => cluster.readCluster().status.currentPrimary

const streamingFrom = (name: string, from: string) =>
  eventually(`${name} streaming from ${from}`, async () => {
    const s = await cluster.pgStatus(from)
    return s.replication.some((r) => r.applicationName === name && r.state === "streaming") ? true : undefined
  }, 120_000, 20)

const allStreaming = async (from: string) => {
  for (const n of cluster.names) if (n !== from) await streamingFrom(n, from)
}

const rewindLogs = (name: string) => cluster.logs(procs.get(name)!).filter((l) => l["msg"] === "rewound")

try {
  await cluster.runToEnd("init", "c-1")
  start("c-1")
  await eventually("c-1 primary", async () => (primary() === "c-1" ? true : undefined))
  await cluster.runToEnd("join", "c-2")
  await cluster.runToEnd("join", "c-3")
  start("c-2")
  start("c-3")
  await allStreaming("c-1")
  await cluster.once("c-1", (sql) => sql`create table bench (id serial primary key, at timestamptz default now(), pad text)`)

  // Switchover: name the next instance, poll INSERTs on it.
  const promote: Array<number> = []
  const follow: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const from = primary()!
    const to = cluster.names[(cluster.names.indexOf(from) + 1) % cluster.names.length]!
    const t0 = performance.now()
    cluster.updateCluster((d) => {
      d.status.targetPrimary = to
    })
    await eventually(`write on ${to}`, () => cluster.once(to, (sql) => sql`insert into bench (pad) values ('x')`, { connect_timeout: 1 }).then(() => true), 60_000, 10)
    promote.push(performance.now() - t0)
    await streamingFrom(from, to)
    follow.push(performance.now() - t0)
    await allStreaming(to)
    console.log(`switchover ${from} -> ${to}: writable after ${promote.at(-1)!.toFixed(0)} ms, old primary streaming after ${follow.at(-1)!.toFixed(0)} ms`)
  }

  // Failover: the primary's manager and postmaster are killed, then another instance is named.
  const failover: Array<number> = []
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
    const from = primary()!
    const to = cluster.names[(cluster.names.indexOf(from) + 1) % cluster.names.length]!
    const pid = Number(readFileSync(`${cluster.pgdata(from)}/postmaster.pid`, "utf8").split("\n")[0])
    procs.get(from)!.proc.kill("SIGKILL")
    process.kill(pid, "SIGKILL")
    await procs.get(from)!.exited
    await eventually(`${from} gone`, async () => {
      try {
        process.kill(pid, 0)
        return undefined
      } catch {
        return true
      }
    })
    const t0 = performance.now()
    cluster.updateCluster((d) => {
      d.status.targetPrimary = to
    })
    await eventually(`write on ${to}`, () => cluster.once(to, (sql) => sql`insert into bench (pad) values ('f')`, { connect_timeout: 1 }).then(() => true), 60_000, 10)
    failover.push(performance.now() - t0)
    start(from)
    await allStreaming(to)
    console.log(`failover ${from} -> ${to}: writable after ${failover.at(-1)!.toFixed(0)} ms (crashed primary rewound and streaming)`)
  }

  // Diverged rewind: replicas fenced, rows only on the primary, another instance named.
  const rewind: Array<number> = []
  const rewindFollow: Array<number> = []
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
    const from = primary()!
    const others = cluster.names.filter((n) => n !== from)
    const to = others[0]!
    cluster.updateCluster((d) => {
      d.metadata.annotations = { "tusk.dev/fencedInstances": others.join(",") }
    })
    for (const n of others) await eventually(`${n} fenced`, async () => ((await cluster.pgStatus(n)).postmasterRunning ? undefined : true))
    await cluster.once(from, (sql) => sql`insert into bench (pad) select repeat('d', 200) from generate_series(1, 20000)`)
    const before = rewindLogs(from).length
    const t0 = performance.now()
    cluster.updateCluster((d) => {
      d.status.targetPrimary = to
      delete d.metadata.annotations
    })
    await streamingFrom(from, to)
    rewindFollow.push(performance.now() - t0)
    const logs = rewindLogs(from)
    if (logs.length !== before + 1) throw new Error(`${from} was not rewound`)
    rewind.push(Number(logs.at(-1)!["durationMs"]))
    await allStreaming(to)
    console.log(`diverged ${from} -> ${to}: pg_rewind ${rewind.at(-1)} ms, streaming again after ${rewindFollow.at(-1)!.toFixed(0)} ms`)
  }

  // Shutdown: SIGTERM a manager, time until it exited; start it again.
  const shutdownPrimary: Array<number> = []
  const shutdownStandby: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const p = primary()!
    const standby = cluster.names.find((n) => n !== p)!
    for (const [name, into] of [[standby, shutdownStandby], [p, shutdownPrimary]] as const) {
      const r = await cluster.terminate(procs.get(name)!)
      if (r.code !== 0) throw new Error(`${name} exited ${r.code}`)
      into.push(r.ms)
      start(name)
      await eventually(`${name} ready`, async () => ((await cluster.status(name, "/readyz")).status === 200 ? true : undefined), 60_000, 20)
    }
    await allStreaming(p)
    console.log(`shutdown: standby ${shutdownStandby.at(-1)!.toFixed(0)} ms, primary ${shutdownPrimary.at(-1)!.toFixed(0)} ms`)
  }

  const result = {
    what: "instance manager, PostgreSQL 15 on loopback, file-backed Cluster polled every 100 ms",
    date: new Date().toISOString(),
    cpus: navigator.hardwareConcurrency,
    promote: { description: "targetPrimary written -> first INSERT accepted by the target (switchover)", ...summary(promote) },
    failoverPromote: { description: "old primary killed; targetPrimary written -> first INSERT accepted by the target", ...summary(failover) },
    oldPrimaryFollows: { description: "targetPrimary written -> old primary streaming from the new one (switchover)", ...summary(follow) },
    rewind: { description: "pg_rewind of a diverged former primary (20000 rows diverged)", ...summary(rewind) },
    rewindToStreaming: { description: "targetPrimary written -> diverged former primary rewound and streaming", ...summary(rewindFollow) },
    shutdownPrimary: { description: "SIGTERM -> manager exited (CHECKPOINT, smart shutdown)", ...summary(shutdownPrimary) },
    shutdownStandby: { description: "SIGTERM -> manager exited (smart shutdown)", ...summary(shutdownStandby) }
  }
  console.log(JSON.stringify(result, null, 2))
  mkdirSync(new URL("results", import.meta.url).pathname, { recursive: true })
  writeFileSync(new URL("results/instance.json", import.meta.url).pathname, JSON.stringify(result, null, 2) + "\n")
} finally {
  await cluster.destroy()
}
