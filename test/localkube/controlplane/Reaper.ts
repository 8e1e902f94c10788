/**
 * Stops a cluster once every process registered as its user (Users.ts) has ended,
 * however it ended (normal exit, failure, signal, even SIGKILL). The test harness starts
 * one for a cluster it started, because bun test runs no process "exit" handlers.
 * A reaper whose cluster was stopped by other means simply exits.
 *
 * Usage (spawned detached): bun Reaper.ts <cluster> <stateDir>
 */
import { closeSync, openSync } from "node:fs"
import { Effect } from "effect"
import { configFor, make } from "./LocalKube.ts"
import * as Network from "./Network.ts"
import { liveUsers } from "./Users.ts"

/** Starts a detached reaper for a cluster, logging to `logFile`. */
export const spawnReaper = (cluster: string, stateDir: string, logFile: string): void => {
  const fd = openSync(logFile, "a")
  try {
    Bun.spawn(["setsid", process.execPath, import.meta.path, cluster, stateDir], { stdin: "ignore", stdout: fd, stderr: fd }).unref()
  } finally {
    closeSync(fd)
  }
}

if (import.meta.main) {
  const [cluster, stateDir] = process.argv.slice(2)
  if (cluster === undefined || stateDir === undefined) {
    console.error("usage: Reaper.ts <cluster> <stateDir>")
    process.exit(2)
  }
  const service = make(configFor(cluster, stateDir))
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`)
  log(`watching the users of cluster ${cluster}`)
  for (;;) {
    await Bun.sleep(250)
    if (!Network.netnsExists(cluster)) {
      log(`cluster ${cluster} was stopped by someone else`)
      break
    }
    if (liveUsers(service.paths.users).length > 0) continue
    if (await Effect.runPromise(service.downIfUnused)) {
      log(`no users left; cluster ${cluster} is down`)
      break
    }
  }
}
