/**
 * Failover figures end to end on the local Kubernetes (the operator installed from
 * manifests/, a three-instance Cluster with synchronous replication `{method: any, number: 1}`,
 * the write checker's INSERT loop in a client pod, one connection per INSERT through -rw).
 * Write unavailability = the longest time between two consecutive acknowledged INSERTs:
 * - after the primary's pod is deleted (`kubectl delete pod`);
 * - after the primary's postgres is SIGKILLed inside its pod;
 * - for a switchover (`status.targetPrimary` patched);
 * - after the primary's node is lost (its agent and every pod process killed).
 * Also counted: acknowledged INSERTs missing afterwards (must be 0) and second writers.
 *
 * Run as root after `./node_modules/.bin/bun build.ts`:
 *   ./node_modules/.bin/bun bench/failover.ts [deleteRuns] [switchoverRuns] [sigkillRuns] [nodeLossRuns]
 * Writes bench/results/failover.json (the node-loss runs, the longest by far, were last kept
 * apart as bench/results/failover-node-loss.json from `... 0 0 0 20`).
 */
import { Effect } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { timings } from "../test/localkube/controlplane/Components.ts"
import * as Nodes from "../test/localkube/node/Nodes.ts"
import { environment, eventually } from "../test/e2e/support/Environment.ts"
import * as Ha from "../test/e2e/support/Ha.ts"
import type { WriteReport } from "../test/e2e/support/WriteChecker.ts"

const runsArg = (i: number, fallback: number) => Number(process.argv[i] ?? fallback)
const deleteRuns = runsArg(2, 20)
const switchoverRuns = runsArg(3, 20)
const sigkillRuns = runsArg(4, 5)
const nodeLossRuns = runsArg(5, 3)

const summary = (samples: ReadonlyArray<number>) => {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? NaN
  return { runs: s.length, medianMs: q(0.5), minMs: s[0] ?? NaN, maxMs: s[s.length - 1] ?? NaN, p90Ms: q(0.9), samplesMs: s }
}

interface Run {
  readonly unavailableMs: number
  readonly lost: number
  readonly doubleWriters: boolean
  readonly acknowledged: number
  readonly from: string
  readonly to: string
  readonly timeline: Awaited<ReturnType<typeof Ha.timeline>>
}

const env = await environment()
const c = await Ha.setUp(env, "bench-failover", { synchronous: true })
const results: Record<string, Array<Run>> = { podDeletion: [], sigkill: [], switchover: [], nodeLoss: [] }
let table = 0

/** Results so far, written after every run (a long run stopped early keeps its figures). */
function write() {
  const out = {
    measuredAt: new Date().toISOString(),
    command: `./node_modules/.bin/bun bench/failover.ts ${deleteRuns} ${switchoverRuns} ${sigkillRuns} ${nodeLossRuns}`,
    cluster: "3 instances, synchronous {method: any, number: 1}, local Kubernetes with 3 node agents on a 2-core machine",
    // What the figures depend on outside Tusk: a node is NotReady after its grace period, and a
    // -rw move reaches kube-proxy's rules after its minimum sync period (kube-proxy's default is 1 s).
    environment: {
      nodeMonitorGracePeriod: timings.nodeMonitorGracePeriod,
      kubeProxyMinSyncPeriod: timings.kubeProxyMinSyncPeriod,
      loadAverageAtEnd: loadavg()[0],
    },
    unavailability: Object.fromEntries(Object.entries(results).filter(([, r]) => r.length > 0).map(([k, r]) => [k, summary(r.map((x) => x.unavailableMs))])),
    acknowledgedLost: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.reduce((n, x) => n + x.lost, 0)])),
    secondWriters: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.filter((x) => x.doubleWriters).length])),
    runs: results,
  }
  mkdirSync(new URL("./results", import.meta.url).pathname, { recursive: true })
  writeFileSync(new URL("./results/failover.json", import.meta.url).pathname, `${JSON.stringify(out, null, 2)}\n`)
  return out
}

/**
 * Writes go on for this long after the recovery is seen, so that a later gap (say, the
 * primary's readiness catching up with a crash it already recovered from) is counted too.
 */
const settleMs = 4_000

const measure = async (kind: string, fault: (primary: string) => Promise<void>, recover: (primary: string) => Promise<void> = async () => {}) => {
  await Ha.waitHealthy(c)
  const from = (await Ha.clusterRow(c)).primary
  const { report, timeline } = await Ha.underWriteLoad(c, () => fault(from), async () => {
    await recover(from)
    await Bun.sleep(settleMs)
  }, `bench_${kind.toLowerCase()}_${++table}`)
  const run = record(kind, from, (await Ha.clusterRow(c)).primary, report, timeline)
  console.log(JSON.stringify({ kind, ...run }))
  write()
}

const record = (kind: string, from: string, to: string, r: WriteReport, timeline: Run["timeline"]): Run => {
  const run = { unavailableMs: r.unavailableMs, lost: r.lost.length, doubleWriters: r.doubleWriters, acknowledged: r.acknowledged, from, to, timeline }
  results[kind]!.push(run)
  return run
}

// The writer's own "writes after the fault" wait covers the recovery; here only some primary is awaited.
const aPrimary = () => eventually("a primary", async () => ((await Ha.clusterRow(c)).primary !== "" ? true : undefined), 120_000, 200).then(() => {})

try {
  for (let i = 0; i < deleteRuns; i++) {
    await measure("podDeletion", (p) => c.env.kubectl(["-n", c.ns, "delete", "pod", p, "--wait=false"]).then(() => {}), aPrimary)
  }
  for (let i = 0; i < switchoverRuns; i++) {
    await measure("switchover", async (p) => {
      const to = (await Ha.instancePods(c)).find((x) => x.name !== p && x.ready)!.name
      await Ha.switchover(c, to)
    }, async (p) => {
      await Ha.waitNewPrimary(c, p)
    })
  }
  for (let i = 0; i < sigkillRuns; i++) {
    await measure("sigkill", (p) => Ha.killPostgres(c, p), aPrimary)
  }
  // Node loss of the primary alone: the client pod (the application) and the operator must
  // survive it, so the primary is first moved off their nodes when it shares one.
  const nodeOf = async (selector: string, ns: string) =>
    (await env.json<{ items: Array<{ spec: { nodeName?: string } }> }>(["-n", ns, "get", "pods", "-l", selector])).items.flatMap((p) => p.spec.nodeName ?? [])
  const awayFromBystanders = async () => {
    const bystanders = new Set([
      ...(await nodeOf("run=client", c.ns)),
      ...(await nodeOf("app.kubernetes.io/name=tusk", "tusk-system")),
    ])
    await Ha.waitHealthy(c)
    const pods = await Ha.instancePods(c)
    const primary = pods.find((p) => p.role === "primary")
    if (primary?.nodeName === undefined || !bystanders.has(primary.nodeName)) return
    const to = pods.find((p) => p.ready && p.nodeName !== undefined && !bystanders.has(p.nodeName))
    if (to === undefined) throw new Error("every instance shares a node with the client or the operator")
    await Ha.switchover(c, to.name)
    await Ha.waitNewPrimary(c, primary.name)
  }
  for (let i = 0; i < nodeLossRuns; i++) {
    let node = 0
    await awayFromBystanders()
    await measure("nodeLoss", async (p) => {
      const where = Nodes.locatePod(env.lk.service, c.ns, p)
      if (where === undefined) throw new Error(`${p} is not running on any node`)
      node = where.node
      Nodes.stop(env.lk.service, node, "kill")
    }, async (p) => {
      await Ha.waitNewPrimary(c, p, 180_000)
    })
    await Effect.runPromise(Nodes.start(env.lk.service, node))
  }
  await Ha.tearDown(c)
} catch (e) {
  console.log(`stopped early; namespace ${c.ns} kept for a look: ${String(e)}`)
  process.exitCode = 1
} finally {
  const out = write()
  console.log(JSON.stringify({ unavailability: Object.fromEntries(Object.entries(out.unavailability).map(([k, v]) => [k, { runs: v.runs, medianMs: v.medianMs, maxMs: v.maxMs }])), acknowledgedLost: out.acknowledgedLost, secondWriters: out.secondWriters }))
}
// A write loop of a run stopped early may still be waiting on its pod: do not wait for it.
process.exit()
