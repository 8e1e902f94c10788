import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { withLock } from "./Lock.ts"

const dir = mkdtempSync(join(tmpdir(), "lk-lock-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("Lock", () => {
  test("serialises holders and removes the file afterwards", async () => {
    const path = join(dir, "a")
    const events: Array<string> = []
    const section = (name: string) =>
      withLock(path, "5 seconds", Effect.sync(() => events.push(`${name} in`)).pipe(Effect.zipRight(Effect.sleep("300 millis")), Effect.zipRight(Effect.sync(() => events.push(`${name} out`)))))
    await Effect.runPromise(Effect.all([section("a"), section("b")], { concurrency: 2 }))
    expect([events[0]?.split(" ")[1], events[1]?.split(" ")[1], events[2]?.split(" ")[1], events[3]?.split(" ")[1]]).toEqual(["in", "out", "in", "out"])
    expect(existsSync(path)).toBe(false)
  })

  test("takes over a lock whose holder is gone, and times out on a live one", async () => {
    const path = join(dir, "b")
    writeFileSync(path, "999999999 12345\n")
    expect(await Effect.runPromise(withLock(path, "2 seconds", Effect.succeed("got it")))).toBe("got it")
    const self = (await Bun.file("/proc/self/stat").text()).split(") ")[1]?.split(" ")[19]
    writeFileSync(path, `${process.pid} ${self}\n`)
    const r = await Effect.runPromise(Effect.either(withLock(path, "500 millis", Effect.succeed("no"))))
    expect(r._tag).toBe("Left")
    rmSync(path)
  })
})
