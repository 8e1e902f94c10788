/** The data directory on disk: what state it is in, and writing files into it safely. */
import { Data, Effect } from "effect"
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
import { dirname } from "node:path"

const exists = (path: string) => stat(path).then(() => true, () => false)

/** "missing" (no cluster), "standby" (standby.signal present) or "primary". */
export const dataState = (pgdata: string): Effect.Effect<"missing" | "primary" | "standby"> =>
  Effect.promise(async () => {
    if (!(await exists(`${pgdata}/PG_VERSION`))) return "missing" as const
    return (await exists(`${pgdata}/standby.signal`)) ? "standby" as const : "primary" as const
  })

const readPidStatus = async (pgdata: string) => {
  const text = await readFile(`${pgdata}/postmaster.pid`, "utf8").catch(() => undefined)
  return text?.split("\n")[7]?.trim() || undefined
}

/**
 * The postmaster's own status line in postmaster.pid ("starting", "stopping", "ready", "standby").
 * PostgreSQL rewrites the file in place, so a read can catch it half-written: read again once.
 */
export const postmasterPidStatus = (pgdata: string): Effect.Effect<string | undefined> =>
  Effect.promise(async () => {
    const first = await readPidStatus(pgdata)
    if (first !== undefined) return first
    await Bun.sleep(20)
    return readPidStatus(pgdata)
  })

/** The names in PGDATA/pg_wal, and a reader of its timeline history files (read at once: they are small and few). */
export const readWalDirectory = (pgdata: string): Effect.Effect<{ readonly walFiles: ReadonlyArray<string>; readonly readHistory: (name: string) => string | undefined }> =>
  Effect.promise(async () => {
    const dir = `${pgdata}/pg_wal`
    const walFiles = await readdir(dir).catch(() => [])
    const histories = new Map<string, string>()
    for (const name of walFiles.filter((f) => f.endsWith(".history"))) {
      const content = await readFile(`${dir}/${name}`, "utf8").catch(() => undefined)
      if (content !== undefined) histories.set(name, content)
    }
    return { walFiles, readHistory: (name: string) => histories.get(name) }
  })

/** Write `content` only if it differs; atomically (rename). Returns whether it changed. */
export const writeIfChanged = (path: string, content: string, mode = 0o600): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    const current = await readFile(path, "utf8").catch(() => undefined)
    if (current === content) return false
    await mkdir(dirname(path), { recursive: true })
    // Two writers (the supervisor and the status server's certificate upkeep) may race: never share a temp file.
    const tmp = `${path}.${process.pid}.${crypto.randomUUID()}.tmp`
    await writeFile(tmp, content, { mode })
    await chmod(tmp, mode)
    await rename(tmp, path)
    return true
  })

/** Mark the data directory as a standby's. */
export const writeStandbySignal = (pgdata: string): Effect.Effect<void> =>
  Effect.promise(() => writeFile(`${pgdata}/standby.signal`, "", { mode: 0o600 }))

/** Remove a directory tree (missing is fine). */
export const removeTree = (path: string): Effect.Effect<void> => Effect.promise(() => rm(path, { recursive: true, force: true }))

/** Move a freshly built data directory into place: the last step, so a crash before it leaves nothing half-made. */
export const install = (from: string, to: string): Effect.Effect<void> =>
  Effect.promise(async () => {
    await rm(to, { recursive: true, force: true })
    await rename(from, to)
  })

/** A directory could not be created or given its mode (e.g. a volume root owned by root). */
export class DirectoryError extends Data.TaggedError("DirectoryError")<{ readonly path: string; readonly message: string }> {}

/** Make sure a directory exists with the given mode. */
export const ensureDir = (path: string, mode = 0o700): Effect.Effect<void, DirectoryError> =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(path, { recursive: true, mode })
      await chmod(path, mode)
    },
    catch: (e) => new DirectoryError({ path, message: e instanceof Error ? e.message : String(e) }),
  })
