import { describe, expect, test } from "bun:test"
import { isStrayConnectionError } from "./StrayErrors.ts"

const socketError = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno: -104 })

/** A process with the guard installed that throws `kind` from a timer, outside any Effect. */
const child = (kind: "reset" | "other") => `
import { Effect } from "effect"
import { guard } from "${import.meta.dir}/StrayErrors.ts"
const error = ${JSON.stringify(kind)} === "reset"
  ? Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read", errno: -104 })
  : new TypeError("a bug")
await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  yield* guard
  setTimeout(() => { throw error }, 10)
  yield* Effect.sleep("300 millis")
  console.log("still running")
})))
`

const run = (kind: "reset" | "other") => {
  const p = Bun.spawnSync([process.execPath, "-e", child(kind)], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" })
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() }
}

describe("stray connection errors", () => {
  test("a reset or broken pipe on a socket read or write is one; anything else is not", () => {
    expect(isStrayConnectionError(socketError("ECONNRESET", "read"))).toBe(true)
    expect(isStrayConnectionError(socketError("EPIPE", "write"))).toBe(true)
    expect(isStrayConnectionError(socketError("ECONNREFUSED", "connect"))).toBe(false)
    expect(isStrayConnectionError(socketError("ECONNRESET", "open"))).toBe(false)
    expect(isStrayConnectionError(new TypeError("x"))).toBe(false)
    expect(isStrayConnectionError({ code: "ECONNRESET", syscall: "read" })).toBe(false)
  })

  test("thrown outside any fiber, a connection reset is logged and the process goes on", () => {
    const r = run("reset")
    expect(r.out).toContain("a connection broke after its client let it go")
    expect(r.out).toContain("still running")
    expect(r.code).toBe(0)
  })

  test("any other uncaught error still ends the process", () => {
    const r = run("other")
    expect(r.out).toContain("a bug")
    expect(r.out).not.toContain("still running")
    expect(r.code).toBe(1)
  })
})
