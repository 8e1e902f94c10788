/**
 * Processes using a cluster: a test run registers itself before `up`, and the reaper
 * stops the cluster only once every registered process has ended. One file per user,
 * named by PID, holding its start time (so a recycled PID is not mistaken for it).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Supervisor from "./Supervisor.ts"

/** Registers a live process as a user of the cluster whose users directory is `dir`. */
export const registerUser = (dir: string, pid: number): void => {
  const rec = Supervisor.recordsOf([pid])[0]
  if (rec === undefined) throw new Error(`process ${pid} is not running`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, String(pid)), `${rec.startTime}\n`)
}

/** Live users; files of ended processes are removed on the way. */
export const liveUsers = (dir: string): Array<number> => {
  let names: Array<string>
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => {
    const file = join(dir, name)
    let rec: Supervisor.PidRecord | undefined
    try {
      rec = Supervisor.parsePidRecord(`${name} ${readFileSync(file, "utf8").trim()}`)
    } catch {
      return []
    }
    if (rec !== undefined && Supervisor.isAlive(rec)) return [rec.pid]
    rmSync(file, { force: true })
    return []
  })
}

/** Removes a user registration. */
export const unregisterUser = (dir: string, pid: number): void => rmSync(join(dir, String(pid)), { force: true })
