/**
 * Tears a cluster down once a given process has ended, however it ended (normal exit,
 * failure, signal, even SIGKILL). The test harness starts one for a cluster it started,
 * because bun test runs no process "exit" handlers.
 *
 * Usage (spawned detached): bun Reaper.ts <cluster> <stateDir> <pid> <starttime>
 */
import { closeSync, openSync } from "node:fs"
import { Effect } from "effect"
import { configFor, make } from "./LocalKube.ts"
import * as Supervisor from "./Supervisor.ts"

/** Starts a detached reaper that runs `down` for the cluster when `pid` ends. */
export const spawnReaper = (cluster: string, stateDir: string, pid: number, logFile: string): void => {
  const stat = Supervisor.recordsOf([pid])[0]
  if (stat === undefined) throw new Error(`process ${pid} is not running`)
  const fd = openSync(logFile, "a")
  try {
    const argv = ["setsid", process.execPath, import.meta.path, cluster, stateDir, String(pid), stat.startTime]
    Bun.spawn(argv, { stdin: "ignore", stdout: fd, stderr: fd }).unref()
  } finally {
    closeSync(fd)
  }
}

if (import.meta.main) {
  const [cluster, stateDir, pid, startTime] = process.argv.slice(2)
  const watched = Supervisor.parsePidRecord(`${pid} ${startTime}`)
  if (cluster === undefined || stateDir === undefined || watched === undefined) {
    console.error("usage: Reaper.ts <cluster> <stateDir> <pid> <starttime>")
    process.exit(2)
  }
  while (Supervisor.isAlive(watched)) await Bun.sleep(250)
  console.log(`${new Date().toISOString()} process ${watched.pid} ended; stopping cluster ${cluster}`)
  await Effect.runPromise(make(configFor(cluster, stateDir)).down)
  console.log(`${new Date().toISOString()} cluster ${cluster} is down`)
}
