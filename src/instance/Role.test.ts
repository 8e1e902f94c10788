import { describe, expect, test } from "bun:test"
import { decide, Role, type Observation, type Postmaster } from "./Role.ts"

const running = (inRecovery: boolean): Postmaster => ({ _tag: "Running", inRecovery })
const obs = (o: Partial<Observation>): Observation => ({
  self: "c-1",
  targetPrimary: "c-1",
  currentPrimary: "c-1",
  fenced: false,
  data: "primary",
  postmaster: running(false),
  walReceiverActive: false,
  caughtUp: true,
  predecessorStopped: true,
  diverged: false,
  isolated: false,
  ...o
})
const step = (o: Partial<Observation>, previous: Role = Role.Starting()) => {
  const d = decide(previous, obs(o))
  return [d.role._tag, d.action._tag] as const
}

describe("Role.decide", () => {
  test("a steady primary waits", () => {
    expect(step({})).toEqual(["Primary", "Wait"])
  })
  test("a fresh primary reports itself", () => {
    expect(step({ currentPrimary: undefined })).toEqual(["Primary", "ReportPrimary"])
    expect(step({ currentPrimary: undefined, targetPrimary: undefined })).toEqual(["Primary", "ReportPrimary"])
  })
  test("a primary stops at once when another instance is the target", () => {
    expect(step({ targetPrimary: "c-2" })).toEqual(["Demoting", "StopPostmaster"])
    expect(step({ targetPrimary: undefined, currentPrimary: "c-2" })).toEqual(["Demoting", "StopPostmaster"])
  })
  test("an isolated primary stops and stays stopped until contact returns", () => {
    expect(step({ isolated: true })).toEqual(["Stopped", "StopPostmaster"])
    expect(step({ isolated: true, postmaster: { _tag: "Starting" } })).toEqual(["Stopped", "StopPostmaster"])
    expect(step({ isolated: true, postmaster: { _tag: "NotRunning" } })).toEqual(["Stopped", "Wait"])
    expect(step({ isolated: false, postmaster: { _tag: "NotRunning" } })).toEqual(["Starting", "StartPostmaster"])
    // Back in contact with another named: it follows, as any former primary does.
    expect(step({ isolated: false, postmaster: { _tag: "NotRunning" }, targetPrimary: "c-2", currentPrimary: "c-2" })).toEqual(["Demoting", "Rewind"])
  })
  test("a starting primary's data never comes up while another leads", () => {
    expect(step({ targetPrimary: "c-2", postmaster: { _tag: "Starting" } })).toEqual(["Demoting", "StopPostmaster"])
    expect(step({ data: "standby", targetPrimary: "c-2", postmaster: { _tag: "Starting" } })).toEqual(["Starting", "Wait"])
  })
  test("a former primary waits for the new primary, then rewinds from it", () => {
    const former = { postmaster: { _tag: "NotRunning" } as const, targetPrimary: "c-2" }
    expect(step({ ...former, currentPrimary: "c-1" })).toEqual(["Demoting", "Wait"])
    const d = decide(Role.Demoting(), obs({ ...former, currentPrimary: "c-2" }))
    expect(d.action).toEqual({ _tag: "Rewind", from: "c-2" })
  })
  test("standby data starts as a standby; primary data starts when it leads", () => {
    expect(step({ data: "standby", postmaster: { _tag: "NotRunning" }, targetPrimary: "c-2" })).toEqual(["Starting", "StartPostmaster"])
    expect(step({ postmaster: { _tag: "NotRunning" } })).toEqual(["Starting", "StartPostmaster"])
    expect(step({ postmaster: { _tag: "NotRunning" }, data: "missing" })).toEqual(["Stopped", "Wait"])
  })
  test("a standby follows; it promotes only once the receiver stopped and it caught up", () => {
    const standby = { data: "standby" as const, postmaster: running(true) }
    expect(step({ ...standby, targetPrimary: "c-2", currentPrimary: "c-2", walReceiverActive: true })).toEqual(["Standby", "Wait"])
    expect(decide(Role.Starting(), obs({ ...standby, targetPrimary: "c-2", walReceiverActive: true })).role).toEqual(Role.Standby({ streaming: true }))
    expect(step({ ...standby, currentPrimary: "c-2", walReceiverActive: true })).toEqual(["Promoting", "Wait"])
    expect(step({ ...standby, currentPrimary: "c-2", caughtUp: false })).toEqual(["Promoting", "Wait"])
    expect(step({ ...standby, currentPrimary: "c-2", predecessorStopped: false })).toEqual(["Promoting", "Wait"])
    expect(step({ ...standby, currentPrimary: "c-2" })).toEqual(["Promoting", "Promote"])
  })
  test("a diverged standby stops, waits for the new primary to lead, then is rewound from it", () => {
    const standby = { data: "standby" as const, diverged: true, targetPrimary: "c-2", currentPrimary: "c-2" }
    expect(step({ ...standby, postmaster: running(true) })).toEqual(["Demoting", "StopPostmaster"])
    expect(decide(Role.Demoting(), obs({ ...standby, postmaster: { _tag: "NotRunning" } })).action).toEqual({ _tag: "Rewind", from: "c-2" })
    expect(step({ ...standby, postmaster: { _tag: "NotRunning" }, currentPrimary: "c-3" })).toEqual(["Demoting", "Wait"])
    // Named itself meanwhile, it starts and promotes as any standby: its WAL is the newest there is.
    expect(step({ ...standby, postmaster: { _tag: "NotRunning" }, targetPrimary: "c-1" })).toEqual(["Starting", "StartPostmaster"])
  })
  test("fencing stops the postmaster and then waits, whatever the role", () => {
    expect(step({ fenced: true })).toEqual(["Fenced", "StopPostmaster"])
    expect(step({ fenced: true, postmaster: { _tag: "Starting" } })).toEqual(["Fenced", "StopPostmaster"])
    expect(step({ fenced: true, postmaster: { _tag: "NotRunning" } })).toEqual(["Fenced", "Wait"])
  })
  test("never two writable primaries: whenever another instance leads, a running primary stops", () => {
    const names = ["c-1", "c-2", "c-3", undefined]
    for (const targetPrimary of names) for (const currentPrimary of names) {
      const lead = targetPrimary ?? currentPrimary
      const d = decide(Role.Primary(), obs({ targetPrimary, currentPrimary }))
      if (lead !== undefined && lead !== "c-1") expect(d.action._tag).toBe("StopPostmaster")
      else expect(d.role._tag).toBe("Primary")
    }
  })
})

describe("restartDelayMs", () => {
  test("no delay at first, then doubling up to 30 s", async () => {
    const { restartDelayMs } = await import("./Manager.ts")
    expect([0, 1, 2, 3, 4, 10, 20].map(restartDelayMs)).toEqual([0, 500, 1000, 2000, 4000, 30000, 30000])
  })
})
