/**
 * S7 end to end: `kubectl drain` of the primary's node. The primary moves to an instance on
 * another node before its pod is evicted (its PodDisruptionBudget holds the eviction); the
 * evicted instance stays Pending while its node-bound volume's node is cordoned; `kubectl
 * uncordon` brings it back Running as a replica. While it is Pending, `kubectl tusk status`
 * lists it among the Pending instances with the scheduler's reason and the cordoned node.
 * The Cluster has a name of its own, so the drain (restricted to its pods by
 * `--pod-selector`, as the local Kubernetes is shared with other tests) evicts nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { environment, eventually } from "./support/Environment.ts"
import * as Ha from "./support/Ha.ts"

const minute = 60_000
const plugin = new URL("../../dist/kubectl-tusk", import.meta.url).pathname
let c: Ha.HaCluster

beforeAll(async () => {
  c = await Ha.setUp(await environment(), "ha-drain", { synchronous: true, name: "hadrain" })
}, 10 * minute)

afterAll(async () => {
  await Ha.tearDown(c)
})

describe("S7 drain the primary's node", () => {
  test("the primary moves first; the evicted pod stays Pending while cordoned; uncordon brings it back as a replica", async () => {
    const old = (await Ha.clusterRow(c)).primary
    const node = (await Ha.instancePods(c)).find((p) => p.name === old)!.nodeName!
    const drainedAt = Date.now()
    try {
      // The local Kubernetes is shared with other tests: evict only this Cluster's pods.
    const drain = c.env.kubectl(["drain", node, "--delete-emptydir-data", "--force", "--ignore-daemonsets", `--pod-selector=tusk.dev/cluster=${c.name}`, "--timeout=180s"])
      // The primary's PodDisruptionBudget holds the eviction until another instance is primary.
      const moved = await Ha.waitNewPrimary(c, old, 120_000)
      const podAtMove = (await Ha.instancePods(c)).find((p) => p.name === old)
      console.log(JSON.stringify({ what: "S7", node, from: old, to: moved.primary, movedAfterMs: moved.at - drainedAt, oldPodAtMove: podAtMove }))
      await drain
      const pending = await eventually(`${old} to be Pending`, async () => {
        const pod = (await Ha.instancePods(c)).find((p) => p.name === old)
        return pod?.phase === "Pending" ? pod : undefined
      }, 120_000, 500)
      expect(pending.nodeName).toBeUndefined()
      // Still Pending a while later: its volume is bound to the cordoned node.
      await Bun.sleep(5_000)
      expect((await Ha.instancePods(c)).find((p) => p.name === old)!.phase).toBe("Pending")
      const events = await c.env.kubectl(["-n", c.ns, "get", "events", "--field-selector", `involvedObject.name=${old}`, "-o", "jsonpath={.items[*].message}"])
      console.log(JSON.stringify({ what: "S7 pending reason", events: events.slice(-400) }))
      // `kubectl tusk status` says the instance is Pending, and why.
      const status = await c.env.lk.exec([plugin, "status", c.name, "-n", c.ns])
      console.log(status.stdout)
      expect(status.exitCode).toBe(0)
      const lines = status.stdout.split("\n")
      expect(lines.find((l) => l.startsWith(`${old} `) && / Pending\s*$/.test(l))).toBeDefined()
      const pendingSection = lines.indexOf("Pending instances")
      expect(pendingSection).toBeGreaterThan(0)
      const why = lines.slice(pendingSection).find((l) => l.startsWith(`${old} `))
      expect(why).toContain("Unschedulable: ")
      expect(why).toContain(`its volume ${old} is bound to node ${node}, which is cordoned (kubectl uncordon ${node})`)

      await c.env.kubectl(["uncordon", node])
      await Ha.waitHealthy(c)
      const back = (await Ha.instancePods(c)).find((p) => p.name === old)!
      expect([back.phase, back.ready, back.role, back.nodeName]).toEqual(["Running", true, "replica", node])
      expect((await Ha.clusterRow(c)).primary).toBe(moved.primary)
    } finally {
      // Leave the node schedulable whatever happened.
      await c.env.kubectl(["uncordon", node])
    }
  }, 8 * minute)
})
