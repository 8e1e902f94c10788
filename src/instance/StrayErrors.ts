/**
 * A guard for the process that supervises PostgreSQL. When PostgreSQL stops (a fence, a
 * hand-over), a connection of the manager's pool can report its reset after the client
 * library has let go of the socket: under Bun it is then thrown from node:net as
 * `read ECONNRESET` with no query waiting on it, and would end the supervisor, and with it
 * the pod's PID 1, in the middle of a role change. Such an error is about a connection that
 * is already gone: it is logged and the process goes on. Any other uncaught error still
 * ends the process, as it would without the guard.
 */
import { Effect, Runtime } from "effect"

const gone = new Set(["ECONNRESET", "EPIPE"])

/** A reset or broken pipe on a socket read or write: nothing to do but drop the connection (pure). */
export const isStrayConnectionError = (e: unknown): boolean =>
  e instanceof Error &&
  "code" in e && gone.has(String(e.code)) &&
  "syscall" in e && (e.syscall === "read" || e.syscall === "write")

/** Install the guard for the current scope. */
export const guard = Effect.gen(function*() {
  const runtime = yield* Effect.runtime<never>()
  const onError = (e: unknown) => {
    if (isStrayConnectionError(e)) {
      Runtime.runSync(runtime)(Effect.logWarning("a connection broke after its client let it go; dropped", String(e)))
      return
    }
    Runtime.runSync(runtime)(Effect.logError("uncaught error", e instanceof Error ? (e.stack ?? e.message) : String(e)))
    process.exit(1)
  }
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.on("uncaughtException", onError)
      process.on("unhandledRejection", onError)
    }),
    () =>
      Effect.sync(() => {
        process.off("uncaughtException", onError)
        process.off("unhandledRejection", onError)
      })
  )
})
