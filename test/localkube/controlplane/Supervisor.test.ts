import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import * as Network from "./Network.ts"
import * as Supervisor from "./Supervisor.ts"

describe("Supervisor", () => {
  test("parses /proc stat lines whose command name holds spaces and parens", () => {
    const line = "4242 (we (ir) d) S 17 4242 4242 0 -1 4194304 151 0 0 0 0 0 0 0 20 0 1 0 987654 1234 56"
    expect(Supervisor.parseStat(line)).toEqual({ state: "S", ppid: 17, startTime: "987654" })
    expect(Supervisor.parsePidRecord("12 345\n")).toEqual({ pid: 12, startTime: "345" })
    expect(Supervisor.parsePidRecord("garbage")).toBeUndefined()
  })

  describe("in a network namespace", () => {
    const cluster = `unit${process.pid}`
    const dir = mkdtempSync(join(tmpdir(), "lk-sup-"))
    afterAll(() => {
      Supervisor.stopPidDirSync(dir, [], 1000)
      Network.deleteNetnsSync(cluster)
      rmSync(dir, { recursive: true, force: true })
    })

    test("spawns a detached process inside it and stops it by PID, TERM-resistant ones with KILL", async () => {
      await Effect.runPromise(Network.ensureNetns(cluster, 1))
      const spawn = (name: string, script: string) =>
        Effect.runPromise(
          Supervisor.spawnDetached({
            cluster,
            argv: ["bash", "-c", script],
            logFile: join(dir, `${name}.log`),
            pidFile: join(dir, `${name}.pid`),
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
          }),
        )
      const polite = await spawn("polite", "echo started; exec sleep 60")
      const stubborn = await spawn("stubborn", "trap '' TERM; sleep 60 & wait")
      expect(Supervisor.isAlive(polite) && Supervisor.isAlive(stubborn)).toBe(true)
      // The process sits in the cluster netns (once nsenter has exec'd), as its own session leader.
      const inNetns = () => [polite.pid, stubborn.pid].every((p) => Network.netnsPids(cluster).includes(p))
      for (let i = 0; i < 50 && !inNetns(); i++) await Bun.sleep(20)
      expect(inNetns()).toBe(true)
      const sid = (await Bun.file(`/proc/${polite.pid}/stat`).text()).split(") ")[1]?.split(" ")[3]
      expect(sid).toBe(String(polite.pid))

      const t0 = Date.now()
      Supervisor.stopPidDirSync(dir, [["polite"], ["stubborn"]], 1000)
      expect(Supervisor.isAlive(polite) || Supervisor.isAlive(stubborn)).toBe(false)
      expect(Date.now() - t0).toBeLessThan(5000)
      expect(Supervisor.readPidDir(dir)).toEqual([])
      expect(await Bun.file(join(dir, "polite.log")).text()).toContain("started")
      expect(Network.netnsPids(cluster)).toEqual([])
    })
  })
})
