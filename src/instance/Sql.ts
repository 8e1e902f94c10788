/** SQL on the local instance over its unix socket, as `postgres` by peer authentication. */
import { Data, Effect, type Scope } from "effect"
import postgres from "postgres"

export class SqlError extends Data.TaggedError("SqlError")<{ readonly message: string }> {}

export type Sql = postgres.Sql

export interface LocalTarget {
  readonly socketDir: string
  readonly port: number
}

/** A small pool of local connections, closed with the scope. */
export const connect = (target: LocalTarget, database = "postgres", max = 2): Effect.Effect<Sql, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() =>
      postgres({
        path: `${target.socketDir}/.s.PGSQL.${target.port}`,
        user: "postgres",
        database,
        max,
        idle_timeout: 30,
        connect_timeout: 3,
        onnotice: () => {},
        connection: { application_name: "tusk" }
      })
    ),
    (sql) => Effect.promise(() => sql.end({ timeout: 1 }))
  )

/** Run a query; failures become SqlError with PostgreSQL's message. */
export const query = <A>(run: () => Promise<A>): Effect.Effect<A, SqlError> =>
  Effect.tryPromise({ try: run, catch: (e) => new SqlError({ message: e instanceof Error ? e.message : String(e) }) })

/** A string literal for SQL text where parameters are not allowed (utility statements). */
export const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`

/** A quoted identifier. */
export const ident = (value: string): string => `"${value.replaceAll('"', '""')}"`
