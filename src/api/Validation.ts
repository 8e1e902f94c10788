/**
 * Decoding user-written objects with errors that name the field, the way the API
 * server's refusals do ("spec.instances: ..."). The operator decodes what the API
 * server stored; this strict form is for manifests read from files.
 */
import { Either, ParseResult, Schema } from "effect"

/** One problem in an object, at a dotted path such as `spec.storage.size`. */
export interface FieldError {
  readonly path: string
  readonly message: string
}

const render = (path: ReadonlyArray<PropertyKey>) =>
  path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`),
    "",
  )

/** Decode strictly (unknown fields are errors) and report every problem by field. */
export const decodeStrict =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (input: unknown): Either.Either<A, ReadonlyArray<FieldError>> =>
    Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })(input).pipe(
      Either.mapLeft((error) =>
        ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
          path: render(issue.path),
          message: issue.message,
        })),
      ),
    )
