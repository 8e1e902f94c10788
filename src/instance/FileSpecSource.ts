/**
 * The file-backed SpecSource: a Cluster as JSON or YAML in one file (changed while running,
 * polled), Secrets and ConfigMaps as directories `<dir>/<name>/<key>` like mounted volumes.
 * `setCurrentPrimary`, `reportStopped` and `clearStopped` rewrite the file's status atomically
 * under a lock file, with the same preconditions as the API server's test-and-set.
 */
import { Duration, Effect, Layer, Schedule, Schema, Stream } from "effect"
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { readdir, readFile } from "node:fs/promises"
import { ClusterView } from "./ClusterView.ts"
import { SpecSource, SpecSourceError } from "./SpecSource.ts"

export interface FileSpecSourceOptions {
  readonly clusterFile: string
  /** Holds one directory per Secret or ConfigMap, one file per key. */
  readonly objectsDir: string
  readonly pollInterval?: Duration.DurationInput
}

const unavailable = (message: string) => (cause: unknown) =>
  new SpecSourceError({ reason: "Unavailable", message: `${message}: ${cause instanceof Error ? cause.message : String(cause)}` })

const decodeView = Schema.decodeUnknown(ClusterView)

/** Parse JSON or YAML (JSON is YAML). */
const parseDocument = (text: string, file: string) =>
  Effect.try({
    try: (): unknown => Bun.YAML.parse(text),
    catch: (e) => new SpecSourceError({ reason: "Invalid", message: `${file}: ${e instanceof Error ? e.message : String(e)}` })
  })

/**
 * Run `f` holding `<file>.lock`, which every writer of the file takes (the instances, and the
 * tests that play the API server): a read-modify-write without it loses a concurrent update.
 */
export const withFileLockSync = <A>(file: string, f: () => A): A => {
  const lock = `${file}.lock`
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"))
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || Date.now() > deadline) throw e
      // A holder that died leaves its lock behind: after a few seconds it is stale.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > 5_000) rmSync(lock, { force: true })
      Bun.sleepSync(2)
    }
  }
  try {
    return f()
  } finally {
    rmSync(lock, { force: true })
  }
}

/** A SpecSource over files. */
export const make = (options: FileSpecSourceOptions): typeof SpecSource.Service => {
  const readText = Effect.tryPromise({ try: () => readFile(options.clusterFile, "utf8"), catch: unavailable(options.clusterFile) })
  const decode = (text: string) =>
    parseDocument(text, options.clusterFile).pipe(
      Effect.flatMap(decodeView),
      Effect.mapError((e) => e._tag === "SpecSourceError" ? e : new SpecSourceError({ reason: "Invalid", message: `${options.clusterFile}: ${e.message}` }))
    )
  const cluster = Effect.flatMap(readText, decode)
  const polled = Stream.repeatEffectWithSchedule(readText, Schedule.spaced(options.pollInterval ?? "100 millis"))
  const changes = polled.pipe(Stream.changes, Stream.mapEffect(decode))
  const readObject = (name: string) =>
    Effect.tryPromise({
      try: async () => {
        const dir = `${options.objectsDir}/${name}`
        const keys = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith("."))
        const entries = await Promise.all(keys.map(async (k) => [k.name, await readFile(`${dir}/${k.name}`, "utf8")] as const))
        return Object.fromEntries(entries)
      },
      catch: (e) => new SpecSourceError({ reason: (e as { code?: string }).code === "ENOENT" ? "NotFound" : "Unavailable", message: `object ${name} not readable` })
    })
  /** Rewrite the status when `change` returns one (undefined: leave the file alone); the text written, if any. */
  const rewriteStatus = (change: (status: Readonly<Record<string, unknown>>) => Record<string, unknown> | undefined) =>
    Effect.try({
      try: () =>
        withFileLockSync(options.clusterFile, () => {
          const doc: unknown = Bun.YAML.parse(readFileSync(options.clusterFile, "utf8"))
          const obj = (typeof doc === "object" && doc !== null ? doc : {}) as { status?: Record<string, unknown> }
          const status = change(obj.status ?? {})
          if (status === undefined) return undefined
          obj.status = status
          const tmp = `${options.clusterFile}.${process.pid}.tmp`
          const text = JSON.stringify(obj, null, 2)
          writeFileSync(tmp, text)
          renameSync(tmp, options.clusterFile)
          return text
        }),
      catch: unavailable(options.clusterFile)
    })
  const setCurrentPrimary = (instance: string) =>
    rewriteStatus((s) => ({ ...s, currentPrimary: instance, currentPrimaryTimestamp: new Date().toISOString() })).pipe(
      Effect.flatMap((text) => decode(text ?? ""))
    )
  const reportStopped = (instance: string, successor: string) =>
    rewriteStatus((s) =>
      s["currentPrimary"] === instance && s["targetPrimary"] === successor ? { ...s, formerPrimaryStopped: instance } : undefined
    ).pipe(Effect.map((text) => text !== undefined))
  const clearStopped = (instance: string) =>
    rewriteStatus((s) => {
      if (s["formerPrimaryStopped"] !== instance) return undefined
      const { formerPrimaryStopped: _, ...rest } = s
      return rest
    }).pipe(Effect.asVoid)
  return { cluster, changes, live: cluster, secret: readObject, configMap: readObject, setCurrentPrimary, reportStopped, clearStopped }
}

/** The file-backed SpecSource as a Layer. */
export const layer = (options: FileSpecSourceOptions): Layer.Layer<SpecSource> => Layer.succeed(SpecSource, make(options))
