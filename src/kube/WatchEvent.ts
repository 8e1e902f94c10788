/**
 * The watch wire format: one JSON object per line, `{"type": ..., "object": ...}`.
 * Decoding is a Stream transformation that is indifferent to how the bytes are chunked.
 */
import { Effect, Schema, Stream } from "effect"
import * as KubeError from "./KubeError.ts"

/** A decoded watch event. ERROR events become stream failures instead. */
export type WatchEvent<A> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly object: A }
  | { readonly type: "BOOKMARK"; readonly resourceVersion: string }

const RawEvent = Schema.Struct({
  type: Schema.Literal("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"),
  object: Schema.Unknown,
})
const Bookmark = Schema.Struct({ metadata: Schema.Struct({ resourceVersion: Schema.String }) })

const decodeRaw = Schema.decodeUnknown(RawEvent)
const decodeBookmark = Schema.decodeUnknown(Bookmark)

const malformed = (what: string) => (e: { readonly message: string }) =>
  new KubeError.Malformed({ message: `${what}: ${e.message}` })

/** Decode one line of a watch stream. */
export const decodeLine = <A, I>(schema: Schema.Schema<A, I>) => {
  const decodeObject = Schema.decodeUnknown(schema)
  return (line: string): Effect.Effect<WatchEvent<A>, KubeError.KubeError> =>
    Effect.try({ try: () => JSON.parse(line) as unknown, catch: (e) => malformed("watch line is not JSON")(e as Error) }).pipe(
      Effect.flatMap((json) => Effect.mapError(decodeRaw(json), malformed("watch event"))),
      Effect.flatMap((raw): Effect.Effect<WatchEvent<A>, KubeError.KubeError> => {
        switch (raw.type) {
          case "ERROR": {
            const code = typeof raw.object === "object" && raw.object !== null && "code" in raw.object
              ? Number(raw.object.code)
              : 500
            return Effect.fail(KubeError.fromStatus(code, raw.object))
          }
          case "BOOKMARK":
            return decodeBookmark(raw.object).pipe(
              Effect.map((b) => ({ type: "BOOKMARK" as const, resourceVersion: b.metadata.resourceVersion })),
              Effect.mapError(malformed("bookmark")),
            )
          default: {
            const type = raw.type
            return decodeObject(raw.object).pipe(
              Effect.map((object) => ({ type, object })),
              Effect.mapError(malformed(`${type} object`)),
            )
          }
        }
      }),
    )
}

/** Bytes of a watch response to events; lines may be split anywhere, even inside a UTF-8 sequence. */
export const decodeStream = <A, I>(schema: Schema.Schema<A, I>) => {
  const line = decodeLine(schema)
  return <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<WatchEvent<A>, E | KubeError.KubeError> =>
    bytes.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.filter((l) => l.trim() !== ""),
      Stream.mapEffect(line),
    )
}
