/** Monitoring queries in the `tusk-default-monitoring` ConfigMap format (CloudNativePG's), decoded. */
import { Effect, Either, Schema } from "effect"
import defaultQueriesYaml from "./default-queries.yaml" with { type: "text" }

export const Usage = Schema.Literal("LABEL", "GAUGE", "COUNTER", "DURATION", "DISCARD")

const Column = Schema.Struct({
  usage: Usage,
  description: Schema.optional(Schema.String)
})

/** One query and how its columns map to metrics. */
export const QuerySpec = Schema.Struct({
  query: Schema.String,
  metrics: Schema.Array(Schema.Record({ key: Schema.String, value: Column })),
  primary: Schema.optional(Schema.Boolean)
})
export type QuerySpec = typeof QuerySpec.Type

/** A column of a query with its role. */
export interface ColumnSpec {
  readonly name: string
  readonly usage: typeof Usage.Type
  readonly description: string
}

/** Columns in declaration order. */
export const columns = (spec: QuerySpec): ReadonlyArray<ColumnSpec> =>
  spec.metrics.flatMap((m) => Object.entries(m).map(([name, c]) => ({ name, usage: c.usage, description: c.description ?? name })))

/** A set of queries as decoded; queries that do not decode are kept as errors, never fatal. */
export interface QuerySet {
  readonly queries: ReadonlyArray<readonly [string, QuerySpec]>
  readonly errors: ReadonlyArray<string>
}

const decodeQuery = Schema.decodeUnknownEither(QuerySpec)

/** Parse a queries document (YAML); one bad entry does not spoil the others. Pure. */
export const parseQueries = (source: string, text: string): QuerySet => {
  let doc: unknown
  try {
    doc = Bun.YAML.parse(text)
  } catch (e) {
    return { queries: [], errors: [`${source}: ${e instanceof Error ? e.message : String(e)}`] }
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { queries: [], errors: [`${source}: not a mapping`] }
  const queries: Array<readonly [string, QuerySpec]> = []
  const errors: Array<string> = []
  for (const [name, value] of Object.entries(doc)) {
    const decoded = decodeQuery(value)
    if (Either.isRight(decoded)) queries.push([name, decoded.right])
    else errors.push(`${source}: query ${name}: ${decoded.left.message}`)
  }
  return { queries, errors }
}

/** The default queries, built into the binary. */
export const defaultQueriesText: string = String(defaultQueriesYaml)

/** Concatenate query sets. */
export const merge = (sets: ReadonlyArray<QuerySet>): QuerySet => ({
  queries: sets.flatMap((s) => s.queries),
  errors: sets.flatMap((s) => s.errors)
})

export const defaultQueries: Effect.Effect<QuerySet> = Effect.sync(() => parseQueries("default", defaultQueriesText))
