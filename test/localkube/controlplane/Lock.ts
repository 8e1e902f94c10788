/**
 * A lock file per state directory, so that several processes (test runs, the CLI, a
 * reaper) never start or stop the same cluster at once. The file holds the holder's PID
 * and start time; a lock whose holder is gone is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { Data, Duration, Effect, Schedule } from "effect"
import * as Supervisor from "./Supervisor.ts"

export class LockTimeout extends Data.TaggedError("LockTimeout")<{ readonly path: string; readonly holder: string }> {
  override get message(): string {
    return `lock ${this.path} is held by ${this.holder}`
  }
}

const self = (): Supervisor.PidRecord => {
  const rec = Supervisor.recordsOf([process.pid])[0]
  if (rec === undefined) throw new Error("cannot read /proc/self/stat")
  return rec
}

/** Tries once: creates the lock file, or removes it when its holder is gone. */
const tryAcquire = (path: string) =>
  Effect.suspend(() => {
    try {
      const fd = openSync(path, "wx")
      const me = self()
      writeSync(fd, `${me.pid} ${me.startTime}\n`)
      closeSync(fd)
      return Effect.void
    } catch {
      let holder = ""
      try {
        holder = readFileSync(path, "utf8").trim()
      } catch {
        return Effect.fail(new LockTimeout({ path, holder: "nobody (retry)" }))
      }
      const rec = Supervisor.parsePidRecord(holder)
      if (rec === undefined || !Supervisor.isAlive(rec)) rmSync(path, { force: true })
      return Effect.fail(new LockTimeout({ path, holder }))
    }
  })

/** Runs `effect` holding the lock at `path`, waiting up to `timeout` for it. */
export const withLock = <A, E, R>(path: string, timeout: Duration.DurationInput, effect: Effect.Effect<A, E, R>) => {
  const acquire = tryAcquire(path).pipe(
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new LockTimeout({ path, holder: "another process" }) }),
  )
  const release = Effect.sync(() => rmSync(path, { force: true }))
  // Waiting is interruptible; once the lock is ours, the release is installed before anything can interrupt.
  return Effect.uninterruptibleMask((restore) =>
    restore(acquire).pipe(Effect.zipRight(restore(effect).pipe(Effect.ensuring(release)))),
  )
}
