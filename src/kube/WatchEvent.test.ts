import { describe, expect, test } from "bun:test"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import * as WatchEvent from "./WatchEvent.ts"

const Obj = Schema.Struct({
  metadata: Schema.Struct({ name: Schema.String, resourceVersion: Schema.String }),
  data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
})

const lines = [
  { type: "ADDED", object: { metadata: { name: "a", resourceVersion: "1" }, data: { k: "ünïcödé ✓ 🐘" } } },
  { type: "MODIFIED", object: { metadata: { name: "a", resourceVersion: "2" } } },
  { type: "BOOKMARK", object: { kind: "ConfigMap", metadata: { resourceVersion: "5" } } },
  { type: "DELETED", object: { metadata: { name: "a", resourceVersion: "6" } } },
].map((l) => JSON.stringify(l) + "\n").join("")
const bytes = new TextEncoder().encode(lines)

const decodeChunks = (chunks: ReadonlyArray<Uint8Array>) =>
  Stream.fromIterable(chunks).pipe(WatchEvent.decodeStream(Obj), Stream.runCollect, Effect.map(Chunk.toArray), Effect.runPromise)

/** Cut the bytes at the given offsets. */
const cut = (at: ReadonlyArray<number>) => {
  const points = [0, ...at, bytes.length]
  return points.slice(1).map((end, i) => bytes.slice(points[i], end))
}

describe("WatchEvent.decodeStream", () => {
  test("decodes every event type", async () => {
    const events = await decodeChunks([bytes])
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK", "DELETED"])
    expect(events[2]).toEqual({ type: "BOOKMARK", resourceVersion: "5" })
  })

  test("is indifferent to chunk boundaries, even inside UTF-8 sequences", async () => {
    const whole = await decodeChunks([bytes])
    // every single-byte split, then random multi-splits
    for (let i = 1; i < bytes.length; i++) expect(await decodeChunks(cut([i]))).toEqual(whole)
    for (let n = 0; n < 200; n++) {
      const at = Array.from({ length: 1 + Math.floor(Math.random() * 20) }, () => Math.floor(Math.random() * bytes.length)).sort((a, b) => a - b)
      expect(await decodeChunks(cut(at))).toEqual(whole)
    }
    // one byte at a time
    expect(await decodeChunks(Array.from(bytes, (b) => new Uint8Array([b])))).toEqual(whole)
  })

  test("an ERROR event fails the stream with the decoded Status", async () => {
    const err = JSON.stringify({
      type: "ERROR",
      object: { kind: "Status", status: "Failure", message: "too old resource version: 1 (42)", reason: "Expired", code: 410 },
    }) + "\n"
    const result = await Stream.make(new TextEncoder().encode(err)).pipe(
      WatchEvent.decodeStream(Obj), Stream.runCollect, Effect.either, Effect.runPromise,
    )
    expect(Either.isLeft(result) && result.left._tag).toBe("Gone")
  })

  test("a line that does not fit the schema fails as Malformed", async () => {
    const bad = new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: { metadata: {} } }) + "\n")
    const result = await Stream.make(bad).pipe(WatchEvent.decodeStream(Obj), Stream.runCollect, Effect.either, Effect.runPromise)
    expect(Either.isLeft(result) && result.left._tag).toBe("Malformed")
  })
})
