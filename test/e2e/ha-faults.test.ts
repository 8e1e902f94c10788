/**
 * The faults of issue 8 end to end, on one synchronous (`{method: any, number: 1}`)
 * three-instance Cluster of its own (`hafaults`), each under the write checker: the
 * primary's node stopped (power loss), the operator down during a failover (twice: once the
 * target is named after the primary pod's deletion, and while a cut-off primary's hand-over
 * waits for the operator), a network partition of the primary pod, kube-apiserver restarted
 * mid-failover, and the primary's node frozen (a hung machine that comes back). After
 * each: no acknowledged write lost, no id written twice, never two primaries acknowledging
 * writes, a new primary within a stated bound, and the Cluster healthy again with three
 * Ready instances, the old primary back as a replica (or replaced). Every node stopped and
 * the operator's replica count are restored in `finally` blocks: the local Kubernetes is shared.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { restartApiServer, restartComponent } from "../localkube/controlplane/Restart.ts"
import * as Nodes from "../localkube/node/Nodes.ts"
import { eventually, environment } from "./support/Environment.ts"
import * as Ha from "./support/Ha.ts"
import type { WriteReport } from "./support/WriteChecker.ts"

const minute = 60_000
let c: Ha.HaCluster

/**
 * Bounds, from fault to a new primary shown by `kubectl get cluster`. A lost node is
 * noticed when Kubernetes marks it NotReady (8 s grace here), and an unreachable former
 * primary counts as stopped 10 s after the hand-over began (docs/high-availability.md).
 */
const nodeLossBoundMs = 45_000
/** The operator is away for 10 s plus its restart and leader election. */
const operatorDownBoundMs = 90_000
/** kube-apiserver's graceful stop (up to 10 s), 2 s away, its start, then the rest of the hand-over. */
const apiServerRestartBoundMs = 90_000
/** An isolated primary stops within 5 s + 0.5 s check + 2 s shutdown (src/instance/Isolation.ts). */
const isolationBoundMs = 7_500

beforeAll(async () => {
  c = await Ha.setUp(await environment(), "ha-faults", { synchronous: true, name: "hafaults" })
}, 10 * minute)

afterAll(async () => {
  await Ha.tearDown(c)
})

const log = (what: string, r: WriteReport, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ what, ...extra, attempts: r.attempts, acknowledged: r.acknowledged, failed: r.failed, lost: r.lost.length, duplicated: r.duplicated.length, committedUnacknowledged: r.committedUnacknowledged, writers: r.writers, doubleWriters: r.doubleWriters, unavailableMs: r.unavailableMs }))

const expectNoLossNoSecondWriter = (r: WriteReport) => {
  expect(r.lost).toEqual([])
  expect(r.duplicated).toEqual([])
  expect(r.doubleWriters).toBe(false)
}

/** Healthy with three Ready instances, `primary` the only one labelled primary, `old` back as a replica or replaced. */
const expectHealed = async (old: string, primary: string) => {
  await Ha.waitHealthy(c, 5 * minute)
  const pods = await Ha.instancePods(c)
  console.log(JSON.stringify({ what: "healed", pods: pods.map((p) => [p.name, p.role, p.nodeName]) }))
  expect(pods.length).toBe(3)
  expect(pods.every((p) => p.phase === "Running" && p.ready)).toBe(true)
  expect((await Ha.clusterRow(c)).primary).toBe(primary)
  expect(pods.filter((p) => p.role === "primary").map((p) => p.name)).toEqual([primary])
  const formerPod = pods.find((p) => p.name === old)
  if (formerPod !== undefined) expect(formerPod.role).toBe("replica")
}

/** Healthy, and -rw routes to the primary: where every fault starts from. */
const steady = async () => {
  await Ha.waitHealthy(c)
  await Ha.waitWritable(c)
}

const nodeIndexOf = (pod: string): number => {
  const where = Nodes.locatePod(c.env.lk.service, c.ns, pod)
  if (where === undefined) throw new Error(`${pod} is not running on any node`)
  return where.node
}

const operatorDeployment = ["-n", "tusk-system", "deployment/tusk-controller"] as const
const operatorSelector = "app.kubernetes.io/name=tusk,app.kubernetes.io/component=controller"
const operatorPods = () => c.env.kubectl(["-n", "tusk-system", "get", "pods", "-l", operatorSelector, "-o", "name"])
const operatorPodNames = async () => (await operatorPods()).split("\n").map((n) => n.trim().replace(/^pod\//, "")).filter((n) => n !== "")

/**
 * The current primary, moved first by a switchover if it shares a node with the client pod
 * (stopping that node would stop the write checker too) or with the operator (then the
 * failover would also wait for the operator's pod to be evicted, started elsewhere and
 * elected: "the operator down during a failover" is a test of its own below).
 */
const primaryOnItsOwnNode = async (): Promise<string> => {
  await steady()
  const primary = (await Ha.clusterRow(c)).primary
  const nodeOf = async (ns: string, selector: Array<string>) =>
    (await c.env.json<{ items: Array<{ spec: { nodeName?: string } }> }>(["-n", ns, "get", "pods", ...selector])).items.map((p) => p.spec.nodeName)
  const busy = new Set([
    ...(await nodeOf(c.ns, ["--field-selector=metadata.name=client"])),
    ...(await nodeOf("tusk-system", ["-l", operatorSelector])),
  ])
  const pods = await Ha.instancePods(c)
  if (!busy.has(pods.find((p) => p.name === primary)?.nodeName)) return primary
  const to = pods.find((p) => p.name !== primary && p.ready && !busy.has(p.nodeName))
  if (to === undefined) throw new Error(`every ready replica shares a node with the client pod or the operator (${[...busy].join(", ")})`)
  await Ha.switchover(c, to.name)
  await Ha.waitNewPrimary(c, primary)
  await steady()
  return to.name
}

/** Whether PostgreSQL in `pod` runs as a primary, asked over the pod's loopback (works while the pod is cut off). */
const runsAsPrimary = async (pod: string): Promise<boolean> => {
  const r = await c.env.execIn(c.ns, pod, ["timeout", "3", "psql", "-X", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", "select pg_is_in_recovery()"])
  return r.exitCode === 0 && r.stdout.trim() === "f"
}

/** Samples `runsAsPrimary(pod)` until `done()`; resolves with the times (ms since `from`) it did. */
const sampleRunsAsPrimary = async (pod: string, from: number, done: () => boolean): Promise<ReadonlyArray<number>> => {
  const seen: Array<number> = []
  while (!done()) {
    if (await runsAsPrimary(pod)) seen.push(Date.now() - from)
    await Bun.sleep(100)
  }
  return seen
}

/** Cuts `pod` off the network (its node's side of the link down); `heal` undoes a cut that was made. */
const podCut = (pod: string) => {
  const node = nodeIndexOf(pod)
  const partition = (cut: boolean) => Effect.runPromise(Nodes.partitionPod(c.env.lk.service, node, c.ns, pod, cut))
  let cut = false
  return {
    cut: async () => {
      expect(await partition(true)).toBe(true)
      cut = true
    },
    heal: async () => {
      if (cut) await partition(false)
      cut = false
    },
  }
}

describe("the primary's node stopped", () => {
  test("power loss: another node's instance takes over; the node back, the cluster heals", async () => {
    const old = await primaryOnItsOwnNode()
    const oldNode = (await Ha.instancePods(c)).find((p) => p.name === old)!.nodeName
    const node = nodeIndexOf(old)
    let stoppedAt = 0
    let moved: { primary: string; at: number } | undefined
    try {
      const { report, timeline } = await Ha.underWriteLoad(c, async () => {
        stoppedAt = Date.now()
        Nodes.stop(c.env.lk.service, node, "kill")
      }, async () => {
        moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      }, "node_kill_writes")
      log("node stopped (kill)", report, { from: old, node: oldNode, to: moved!.primary, newPrimaryAfterMs: moved!.at - stoppedAt, timeline })
      expect(moved!.at - stoppedAt).toBeLessThan(nodeLossBoundMs)
      expect((await Ha.instancePods(c)).find((p) => p.name === moved!.primary)!.nodeName).not.toBe(oldNode)
      expectNoLossNoSecondWriter(report)
    } finally {
      await Effect.runPromise(Nodes.start(c.env.lk.service, node))
    }
    await expectHealed(old, moved!.primary)
  }, 12 * minute)
})

const operatorReplicas = async () => (await c.env.kubectl(["get", ...operatorDeployment, "-o", "jsonpath={.spec.replicas}"])).trim()

/**
 * Stops the operator at once (its processes frozen first, since the scale-down and the
 * deletion take API round trips that a loaded machine stretches past the hand-over's 10 s;
 * then the Deployment scaled to 0 and its pod deleted without grace), keeps it away for
 * `ms`, then scales it back; returns the hand-over fields of the Cluster as they were once
 * it was gone. `pods` are the operator's pods, looked up before the fault.
 */
const operatorAwayFor = async (replicas: string, pods: ReadonlyArray<string>, ms: number) => {
  for (const pod of pods) expect(Nodes.freezePod(c.env.lk.service, "tusk-system", pod)).toBe(true)
  await c.env.kubectl(["scale", ...operatorDeployment, "--replicas=0"])
  await c.env.kubectl(["-n", "tusk-system", "delete", "pods", "-l", operatorSelector, "--grace-period=0", "--force"])
  await eventually("the operator pod to be gone", async () => ((await operatorPods()).trim() === "" ? true : undefined), 2 * minute, 200)
  const s = await Ha.clusterStatus(c)
  await Bun.sleep(ms)
  await c.env.kubectl(["scale", ...operatorDeployment, `--replicas=${replicas}`])
  return { targetPrimary: s.targetPrimary, formerPrimaryStopped: s.formerPrimaryStopped, currentPrimary: s.currentPrimary, phase: s.phase }
}

const restoreOperator = async (replicas: string) => {
  await c.env.kubectl(["scale", ...operatorDeployment, `--replicas=${replicas}`])
  await c.env.kubectl(["-n", "tusk-system", "rollout", "status", "deployment/tusk-controller", "--timeout=120s"])
}

describe("the operator down during a failover", () => {
  test("primary pod deleted, the operator stopped once it named the target: it converges when back, nothing acknowledged is lost", async () => {
    await steady()
    const old = (await Ha.clusterRow(c)).primary
    const replicas = await operatorReplicas()
    const operators = await operatorPodNames()
    let deletedAt = 0
    let target: { target: string; at: number } | undefined
    let whileDown: Awaited<ReturnType<typeof operatorAwayFor>> | undefined
    let moved: { primary: string; at: number } | undefined
    try {
      const { report, timeline } = await Ha.underWriteLoad(c, async () => {
        deletedAt = Date.now()
        await c.env.kubectl(["-n", c.ns, "delete", "pod", old, "--wait=false"])
        target = await Ha.waitTargetMoved(c, old)
        whileDown = await operatorAwayFor(replicas, operators, 10_000)
      }, async () => {
        moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      }, "operator_down_writes")
      log("operator down during failover", report, { from: old, target: target!.target, targetAfterMs: target!.at - deletedAt, whileOperatorDown: whileDown, to: moved!.primary, newPrimaryAfterMs: moved!.at - deletedAt, timeline })
      expect(moved!.primary).toBe(target!.target)
      expect(moved!.at - deletedAt).toBeLessThan(operatorDownBoundMs)
      expectNoLossNoSecondWriter(report)
    } finally {
      await restoreOperator(replicas)
    }
    await expectHealed(old, moved!.primary)
  }, 10 * minute)

  test("primary pod cut off, the operator stopped while the hand-over waits for it to count the old primary stopped: it completes when back", async () => {
    await steady()
    const old = (await Ha.clusterRow(c)).primary
    const partition = podCut(old)
    const replicas = await operatorReplicas()
    const operators = await operatorPodNames()
    let cutAt = 0
    let target: { target: string; at: number } | undefined
    let whileDown: Awaited<ReturnType<typeof operatorAwayFor>> | undefined
    let moved: { primary: string; at: number } | undefined
    try {
      const { report, timeline } = await Ha.underWriteLoad(c, async () => {
        cutAt = Date.now()
        await partition.cut()
        target = await Ha.waitTargetMoved(c, old, 2 * minute)
        // The cut-off primary cannot say it stopped: only the operator can count it stopped, 10 s after naming the target.
        whileDown = await operatorAwayFor(replicas, operators, 15_000)
      }, async () => {
        moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      }, "operator_down_partition_writes")
      log("operator down while a cut-off primary is handed over", report, { from: old, target: target!.target, targetAfterMs: target!.at - cutAt, whileOperatorDown: whileDown, to: moved!.primary, newPrimaryAfterMs: moved!.at - cutAt, timeline })
      // The operator left before it could count the old primary stopped, so the target had not promoted yet.
      expect([whileDown!.targetPrimary, whileDown!.formerPrimaryStopped === old, whileDown!.currentPrimary]).toEqual([target!.target, false, old])
      expect(moved!.primary).toBe(target!.target)
      expect(moved!.at - cutAt).toBeLessThan(operatorDownBoundMs)
      expectNoLossNoSecondWriter(report)
    } finally {
      await partition.heal()
      await restoreOperator(replicas)
    }
    await expectHealed(old, moved!.primary)
  }, 10 * minute)
})

describe("a network partition of the primary pod", () => {
  test("the cut-off primary fences itself, another takes over; healed, it rejoins as a replica", async () => {
    await steady()
    const old = (await Ha.clusterRow(c)).primary
    const partition = podCut(old)
    let cutAt = 0
    let fencedAfterMs = 0
    let moved: { primary: string; at: number } | undefined
    try {
      const { report, timeline } = await Ha.underWriteLoad(c, async () => {
        cutAt = Date.now()
        await partition.cut()
        // It can reach neither the API server nor a peer: it stops PostgreSQL by itself.
        fencedAfterMs = await eventually(`${old} to stop running as primary`, async () => ((await runsAsPrimary(old)) ? undefined : Date.now() - cutAt), minute, 100)
      }, async () => {
        moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      }, "partition_writes")
      // Still cut off after the failover, it has not come back as a primary.
      const stillCutOffAsPrimary = await runsAsPrimary(old)
      log("primary pod partitioned", report, { from: old, fencedAfterMs, to: moved!.primary, newPrimaryAfterMs: moved!.at - cutAt, stillCutOffAsPrimary, timeline })
      expect(fencedAfterMs).toBeLessThan(isolationBoundMs)
      expect(stillCutOffAsPrimary).toBe(false)
      expect(moved!.at - cutAt).toBeLessThan(nodeLossBoundMs)
      expectNoLossNoSecondWriter(report)
    } finally {
      await partition.heal()
    }
    await expectHealed(old, moved!.primary)
  }, 10 * minute)
})

describe("kube-apiserver restarted mid-failover", () => {
  test("the failover completes once it is back; nothing acknowledged is lost", async () => {
    await steady()
    const old = (await Ha.clusterRow(c)).primary
    let deletedAt = 0
    let target: { target: string; at: number } | undefined
    let apiBackAt = 0
    let moved: { primary: string; at: number } | undefined
    const { report, timeline } = await Ha.underWriteLoad(c, async () => {
      deletedAt = Date.now()
      await c.env.kubectl(["-n", c.ns, "delete", "pod", old, "--wait=false"])
      target = await Ha.waitTargetMoved(c, old)
      await restartApiServer(c.env.lk, 2_000)
      apiBackAt = Date.now()
    }, async () => {
      moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      // Away longer than the node grace period (8 s here), the API server comes back to node
      // leases that look stale: the nodes and their pods are NotReady for a moment, and -rw
      // has no endpoint meanwhile. The writes after the fault are counted once that is over.
      await eventually("every node to be Ready again", async () => {
        const ready = await c.env.kubectl(["get", "nodes", "lk-node-1", "lk-node-2", "lk-node-3", "-o", "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Ready')].status}{' '}{end}"])
        return ready.trim().split(" ").every((s) => s === "True") ? true : undefined
      }, 2 * minute, 500)
      await Ha.waitWritable(c, 2 * minute)
    }, "apiserver_restart_writes")
    log("kube-apiserver restarted mid-failover", report, { from: old, target: target!.target, targetAfterMs: target!.at - deletedAt, apiServerBackAfterMs: apiBackAt - deletedAt, to: moved!.primary, newPrimaryAfterMs: moved!.at - deletedAt, timeline })
    expect(moved!.at - deletedAt).toBeLessThan(apiServerRestartBoundMs)
    expectNoLossNoSecondWriter(report)
    // kube-scheduler can wedge on a pod created while the API server restarts: the binding fails,
    // its cache keeps the pod as placed ("Scheduler cache is corrupted" in its log) and from then
    // on it places nothing, in any namespace. That is the scheduler's fault, not Tusk's: restart
    // it, and say so, rather than leave the tests after this one without a scheduler.
    const unplaced = () => c.env.kubectl(["get", "pods", "-A", "--field-selector=spec.nodeName=,status.phase=Pending", "-o", "name"]).then((out) => out.trim())
    const placed = await eventually("every pod to be placed", async () => ((await unplaced()) === "" ? true : undefined), minute, 1_000).catch(() => false)
    if (!placed) {
      console.log(JSON.stringify({ what: "kube-scheduler restarted", why: `not placed within 60 s of the API server's return: ${await unplaced()}` }))
      await restartComponent(c.env.lk, "kube-scheduler")
    }
    await expectHealed(old, moved!.primary)
  }, 12 * minute)
})

// Last: when it fails, it can leave a standby that cannot follow the new primary, which would
// fail the faults above for a reason that is not theirs.
describe("the primary's node frozen, then resumed", () => {
  test("frozen: another instance takes over; resumed, the old primary never accepts writes and rejoins as a replica", async () => {
    const old = await primaryOnItsOwnNode()
    const node = nodeIndexOf(old)
    let frozenAt = 0
    let frozen = false
    let moved: { primary: string; at: number } | undefined
    try {
      const { report, timeline } = await Ha.underWriteLoad(c, async () => {
        frozenAt = Date.now()
        Nodes.stop(c.env.lk.service, node, "freeze")
        frozen = true
      }, async () => {
        moved = await Ha.waitNewPrimary(c, old, 3 * minute)
      }, "node_freeze_writes")
      log("node frozen", report, { from: old, to: moved!.primary, newPrimaryAfterMs: moved!.at - frozenAt, timeline })
      expect(moved!.at - frozenAt).toBeLessThan(nodeLossBoundMs)
      expectNoLossNoSecondWriter(report)

      // Resume under write load: the old primary wakes up believing it leads.
      let sampling = true
      let asPrimary: ReadonlyArray<number> = []
      const after = await Ha.underWriteLoad(c, async () => {
        const samples = sampleRunsAsPrimary(old, Date.now(), () => !sampling)
        Nodes.resume(c.env.lk.service, node)
        frozen = false
        await Bun.sleep(15_000)
        sampling = false
        asPrimary = await samples
      }, async () => {}, "node_resume_writes")
      log("node resumed", after.report, { old, primary: (await Ha.clusterRow(c)).primary, oldRunsAsPrimaryAtMsAfterResume: asPrimary })
      // Woken, it sees it was replaced (or cannot confirm it leads) and stops at once.
      expect(asPrimary.filter((t) => t > isolationBoundMs)).toEqual([])
      expectNoLossNoSecondWriter(after.report)
      expect(after.report.writers.length).toBe(1)
    } finally {
      if (frozen) Nodes.resume(c.env.lk.service, node)
    }
    await expectHealed(old, moved!.primary)
  }, 12 * minute)
})
