/**
 * High availability end to end, synchronous replication (`{method: any, number: 1}`):
 * S6 (lose the primary and its volume under write load), a switchover under write load,
 * the primary's postgres SIGKILLed inside its pod, and fencing (S7 is in ha-drain.test.ts).
 * Every fault runs under the write checker: every acknowledged INSERT is present
 * afterwards and no two servers accepted writes in the same period.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { environment, eventually } from "./support/Environment.ts"
import * as Ha from "./support/Ha.ts"
import type { WriteReport } from "./support/WriteChecker.ts"

const minute = 60_000
let c: Ha.HaCluster

beforeAll(async () => {
  c = await Ha.setUp(await environment(), "ha", { synchronous: true })
}, 10 * minute)

afterAll(async () => {
  await Ha.tearDown(c)
})

const log = (what: string, r: WriteReport, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ what, ...extra, attempts: r.attempts, acknowledged: r.acknowledged, failed: r.failed, lost: r.lost.length, committedUnacknowledged: r.committedUnacknowledged, writers: r.writers, unavailableMs: r.unavailableMs }))

const expectNoLossNoSecondWriter = (r: WriteReport) => {
  expect(r.lost).toEqual([])
  expect(r.duplicated).toEqual([])
  expect(r.doubleWriters).toBe(false)
}

describe("S6 lose the primary under write load", () => {
  test("new primary within seconds, writes back within seconds, mycluster-4 joins, nothing acknowledged is lost", async () => {
    const before = await Ha.clusterRow(c)
    expect(before.primary).toBe("mycluster-1")
    let newPrimary: { primary: string; at: number } | undefined
    let deletedAt = 0
    const { report, timeline } = await Ha.underWriteLoad(c, async () => {
      deletedAt = Date.now()
      await c.env.kubectl(["-n", c.ns, "delete", "pvc/mycluster-1", "pod/mycluster-1", "--wait=false"])
    }, async () => {
      newPrimary = await Ha.waitNewPrimary(c, "mycluster-1")
    }, "s6_writes")
    log("S6", report, { newPrimary: newPrimary?.primary, newPrimaryAfterMs: (newPrimary?.at ?? 0) - deletedAt, timeline })
    expect(newPrimary!.at - deletedAt).toBeLessThan(10_000)
    expect(["mycluster-2", "mycluster-3"]).toContain(newPrimary!.primary)
    expect(report.unavailableMs).toBeLessThan(10_000)
    expect(report.writers.length).toBe(2)
    expectNoLossNoSecondWriter(report)

    await Ha.waitHealthy(c)
    const pods = await Ha.instancePods(c)
    expect(pods.map((p) => p.name)).toEqual(["mycluster-2", "mycluster-3", "mycluster-4"])
    expect(pods.every((p) => p.phase === "Running" && p.ready)).toBe(true)
    expect(pods.find((p) => p.name === "mycluster-4")!.role).toBe("replica")
    const pvcs = (await c.env.kubectl(["-n", c.ns, "get", "pvc", "-o", "name"])).split("\n").filter((l) => l !== "").sort()
    expect(pvcs).toEqual(["persistentvolumeclaim/mycluster-2", "persistentvolumeclaim/mycluster-3", "persistentvolumeclaim/mycluster-4"])
  }, 6 * minute)
})

describe("switchover under write load", () => {
  test("status.targetPrimary moves the primary; writes pause briefly; nothing is lost", async () => {
    const old = (await Ha.clusterRow(c)).primary
    const to = (await Ha.instancePods(c)).find((p) => p.name !== old)!.name
    let seen: { primary: string; at: number } | undefined
    let askedAt = 0
    const { report, timeline } = await Ha.underWriteLoad(c, async () => {
      askedAt = Date.now()
      await Ha.switchover(c, to)
    }, async () => {
      seen = await Ha.waitNewPrimary(c, old)
    }, "switchover_writes")
    log("switchover", report, { from: old, to, newPrimaryAfterMs: seen!.at - askedAt, timeline })
    expect(seen!.primary).toBe(to)
    expect(report.unavailableMs).toBeLessThan(10_000)
    expectNoLossNoSecondWriter(report)
    await Ha.waitHealthy(c)
    const pods = await Ha.instancePods(c)
    expect(pods.find((p) => p.name === old)!.role).toBe("replica")
  }, 5 * minute)
})

describe("the primary's postgres SIGKILLed inside its pod", () => {
  test("writes come back within seconds and nothing acknowledged is lost", async () => {
    const old = (await Ha.clusterRow(c)).primary
    let killedAt = 0
    const { report } = await Ha.underWriteLoad(c, async () => {
      killedAt = Date.now()
      await Ha.killPostgres(c, old)
    }, async () => {
      // Either the instance manager restarts it in place or the operator fails over.
      await eventually("writes to be accepted again", async () => {
        const row = await Ha.clusterRow(c)
        return row.primary !== "" ? row : undefined
      }, 60_000, 200)
    }, "sigkill_writes")
    log("sigkill", report, { primaryBefore: old, primaryAfter: (await Ha.clusterRow(c)).primary, killedAt })
    expect(report.unavailableMs).toBeLessThan(20_000)
    expectNoLossNoSecondWriter(report)
    await Ha.waitHealthy(c)
  }, 5 * minute)
})

describe("fencing", () => {
  test("a fenced primary stops PostgreSQL, stays NotReady, and is not failed over", async () => {
    const primary = (await Ha.clusterRow(c)).primary
    await c.env.kubectl(["-n", c.ns, "annotate", "cluster", c.name, `tusk.dev/fencedInstances=${primary}`, "--overwrite"])
    try {
      await eventually("the fenced pod to be NotReady", async () => {
        const pod = (await Ha.instancePods(c)).find((p) => p.name === primary)
        return pod !== undefined && pod.phase === "Running" && !pod.ready ? pod : undefined
      }, 60_000, 250)
      // Longer than any failover takes: the primary stays where it is.
      await Bun.sleep(15_000)
      expect((await Ha.clusterRow(c)).primary).toBe(primary)
      const pod = (await Ha.instancePods(c)).find((p) => p.name === primary)!
      expect([pod.phase, pod.ready]).toEqual(["Running", false])
      const postmaster = await c.env.execIn(c.ns, primary, ["sh", "-c", "test -e /var/lib/postgresql/data/pgdata/postmaster.pid && echo running || echo stopped"])
      expect(postmaster.stdout.trim()).toBe("stopped")
    } finally {
      await c.env.kubectl(["-n", c.ns, "annotate", "cluster", c.name, "tusk.dev/fencedInstances-"])
    }
    // Unfenced, the cluster is healthy again (the operator may fail over while the instance restarts).
    await Ha.waitHealthy(c)
    console.log(JSON.stringify({ what: "fencing", fenced: primary, primaryAfterUnfencing: (await Ha.clusterRow(c)).primary }))
  }, 5 * minute)
})
