/**
 * S6 with asynchronous replication: the primary and its volume are deleted under write load.
 * Acknowledged INSERTs may be lost here (they may not have reached any replica); the test
 * counts and reports them, and still requires a new primary, writes back within seconds,
 * mycluster-4, and never two servers accepting writes in the same period.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { environment } from "./support/Environment.ts"
import * as Ha from "./support/Ha.ts"

const minute = 60_000
let c: Ha.HaCluster

beforeAll(async () => {
  c = await Ha.setUp(await environment(), "ha-async", { synchronous: false })
}, 10 * minute)

afterAll(async () => {
  await Ha.tearDown(c)
})

describe("S6 with asynchronous replication", () => {
  test("failover under write load; acknowledged writes lost are counted and reported", async () => {
    expect((await Ha.clusterRow(c)).primary).toBe("mycluster-1")
    let deletedAt = 0
    let newPrimary: { primary: string; at: number } | undefined
    const { report } = await Ha.underWriteLoad(c, async () => {
      deletedAt = Date.now()
      await c.env.kubectl(["-n", c.ns, "delete", "pvc/mycluster-1", "pod/mycluster-1", "--wait=false"])
    }, async () => {
      newPrimary = await Ha.waitNewPrimary(c, "mycluster-1")
    }, "s6_async_writes")
    console.log(JSON.stringify({
      what: "S6 async",
      newPrimary: newPrimary?.primary,
      newPrimaryAfterMs: (newPrimary?.at ?? 0) - deletedAt,
      acknowledged: report.acknowledged,
      acknowledgedLost: report.lost.length,
      lostIds: report.lost,
      unavailableMs: report.unavailableMs,
    }))
    expect(newPrimary!.at - deletedAt).toBeLessThan(10_000)
    expect(report.unavailableMs).toBeLessThan(10_000)
    expect(report.duplicated).toEqual([])
    expect(report.doubleWriters).toBe(false)
    await Ha.waitHealthy(c)
    expect((await Ha.instancePods(c)).map((p) => p.name)).toEqual(["mycluster-2", "mycluster-3", "mycluster-4"])
  }, 6 * minute)
})
