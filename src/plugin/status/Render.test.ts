/**
 * Golden tests of the status text. The fixtures are `status -o json` captured from a real
 * 3-instance Cluster on the local Kubernetes in each state; the text is the reviewed
 * rendering at the capture's own time.
 */
import { describe, expect, test } from "bun:test"
import { Schema } from "effect"
import { StatusReport } from "./Model.ts"
import { age, bytes, renderText } from "./Render.ts"

const fixture = async (name: string) =>
  Schema.decodeUnknownSync(StatusReport)(JSON.parse(await Bun.file(new URL(`fixtures/${name}.json`, import.meta.url)).text()))
const golden = (name: string) => Bun.file(new URL(`fixtures/${name}.txt`, import.meta.url)).text()
const render = (r: StatusReport, verbose = false, color = false) => renderText(r, { color, now: new Date(r.observedAt), verbose })

describe("status text", () => {
  for (const state of ["healthy", "switchover", "failing-over", "pending", "fenced"]) {
    test(`${state} matches its golden text`, async () => {
      expect(render(await fixture(state))).toBe(await golden(state))
    })
  }

  test("healthy: S8's sections and every instance in the table", async () => {
    const text = render(await fixture("healthy"))
    for (const section of ["Cluster Summary", "Certificates Status", "Streaming Replication status", "Instances status"]) expect(text).toContain(section)
    expect(text).toMatch(/^System ID:\s+\d+$/m)
    expect(text).toMatch(/^mycluster-1\s+0\/[0-9A-F]+\s+Primary\s+OK/m)
    expect(text).toMatch(/^mycluster-2\s+0\/[0-9A-F]+\s+Standby \(async\)\s+OK/m)
    expect(text).not.toContain("Pending instances")
  })

  test("switchover: the target is shown next to the current primary", async () => {
    expect(render(await fixture("switchover"))).toMatch(/^Target primary:\s+mycluster-1 \(since/m)
  })

  test("pending: the instance and the scheduler's reason", async () => {
    expect(render(await fixture("pending"))).toMatch(/^Pending instances\nName\s+Reason\nmycluster-1\s+Unschedulable: 0\/4 nodes are available/m)
  })

  test("fenced: listed in the summary and as the instance's status", async () => {
    const text = render(await fixture("fenced"))
    expect(text).toMatch(/^Fenced instances:\s+mycluster-2$/m)
    expect(text).toMatch(/^mycluster-2\s+-\s+Fenced\s+Fenced/m)
  })

  test("-v adds the PDBs", async () => {
    const r = await fixture("healthy")
    expect(render(r)).not.toContain("Pod Disruption Budgets")
    expect(render(r, true)).toMatch(/^Pod Disruption Budgets\n.*\nmycluster\s+replica\s+-\s+1\s+/m)
  })

  test("colour only when asked, and the columns still line up", async () => {
    const r = await fixture("healthy")
    expect(render(r)).not.toContain("\u001b[")
    const coloured = render(r, false, true)
    expect(coloured).toContain("\u001b[32mOK\u001b[0m")
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, "")).toBe(render(r))
  })

  test("ages and sizes", () => {
    expect([age(5_000), age(300_000), age(3 * 3_600_000), age(5 * 86_400_000)]).toEqual(["5s", "5m", "3h", "5d"])
    expect([bytes(0), bytes(2048), bytes(3 * 1024 * 1024)]).toEqual(["0 B", "2.0 kB", "3.0 MB"])
  })
})
