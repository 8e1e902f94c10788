/**
 * The metrics exporter on port 9187: `tusk_collector_*` about the exporter itself, then every
 * default and custom query as `tusk_<query>_<column>`. Each query runs alone in a read-only
 * transaction with a timeout, so one bad query costs only its own metrics.
 */
import { Effect, Ref, Runtime } from "effect"
import type { ClusterView } from "../ClusterView.ts"
import { InstanceSettings } from "../InstanceSettings.ts"
import type { Manager } from "../Manager.ts"
import { SpecSource } from "../SpecSource.ts"
import { query } from "../Sql.ts"
import { render, sanitizeName, toNumber, type Family, type Sample } from "./Prometheus.ts"
import { columns, defaultQueries, merge, parseQueries, type QuerySet, type QuerySpec } from "./Queries.ts"

/** Queries from the Cluster's custom query ConfigMaps and Secrets; unreadable ones become errors. */
const customQueries = (view: ClusterView) =>
  Effect.gen(function*() {
    const source = yield* SpecSource
    const m = view.spec.monitoring
    const refs = [
      ...(m?.customQueriesConfigMap ?? []).map((r) => ({ ...r, read: source.configMap })),
      ...(m?.customQueriesSecret ?? []).map((r) => ({ ...r, read: source.secret }))
    ]
    const sets = yield* Effect.forEach(refs, (r) =>
      r.read(r.name).pipe(
        Effect.map((data): QuerySet =>
          data[r.key] === undefined
            ? { queries: [], errors: [`${r.name}/${r.key}: key not found`] }
            : parseQueries(`${r.name}/${r.key}`, data[r.key] ?? "")),
        Effect.catchAll((e) => Effect.succeed<QuerySet>({ queries: [], errors: [`${r.name}/${r.key}: ${e.message}`] }))
      ))
    return merge(sets)
  })

/** Rows of a query turned into metric families (pure). */
export const toFamilies = (name: string, spec: QuerySpec, rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<Family> => {
  const cols = columns(spec)
  const labelCols = cols.filter((c) => c.usage === "LABEL")
  return cols
    .filter((c) => c.usage === "GAUGE" || c.usage === "COUNTER" || c.usage === "DURATION")
    .map((c) => ({
      name: sanitizeName(`tusk_${name}_${c.name}`),
      help: c.description,
      type: c.usage === "COUNTER" ? "counter" as const : "gauge" as const,
      samples: rows.flatMap((row): Array<Sample> => {
        const value = toNumber(row[c.name])
        if (value === undefined) return []
        const labels = Object.fromEntries(labelCols.map((l) => [l.name, row[l.name] === null || row[l.name] === undefined ? "" : String(row[l.name])]))
        return [{ labels, value }]
      })
    }))
}

/** Serve /metrics for the life of the scope. */
export const serve = Effect.fn("Exporter.serve")(function*(manager: Manager) {
  const settings = yield* InstanceSettings
  const runtime = yield* Effect.runtime<SpecSource>()
  const errorsTotal = yield* Ref.make(new Map<string, number>())
  const collections = yield* Ref.make(0)
  const defaults = yield* defaultQueries

  const runQuery = (spec: QuerySpec) =>
    query(() =>
      manager.sql.begin("read only", async (tx) => {
        await tx.unsafe("SET LOCAL statement_timeout = '10s'")
        return tx.unsafe(spec.query)
      })
    )

  const collect = Effect.gen(function*() {
    const view = yield* manager.view
    const state = yield* manager.state
    const probed = yield* manager.probe
    const custom = yield* customQueries(view)
    const set = merge([view.spec.monitoring?.disableDefaultQueries === true ? { queries: [], errors: [] } : defaults, custom])
    const families: Array<Family> = []
    const durations: Array<Sample> = []
    const failed: Array<string> = []
    if (probed !== undefined) {
      for (const [name, spec] of set.queries) {
        if (spec.primary === true && probed.inRecovery) continue
        const started = performance.now()
        const rows = yield* runQuery(spec).pipe(Effect.either)
        durations.push({ labels: { collector: name }, value: (performance.now() - started) / 1000 })
        if (rows._tag === "Left") {
          failed.push(name)
          yield* Effect.logWarning("metrics query failed").pipe(Effect.annotateLogs({ query: name, error: rows.left.message }))
        } else {
          families.push(...toFamilies(name, spec, rows.right as unknown as ReadonlyArray<Record<string, unknown>>))
        }
      }
    }
    const decodeFailures = set.errors.map((e) => e.split(":")[0] ?? e)
    const errors = yield* Ref.updateAndGet(errorsTotal, (m) => {
      const next = new Map(m)
      for (const q of [...failed, ...decodeFailures]) next.set(q, (next.get(q) ?? 0) + 1)
      return next
    })
    const count = yield* Ref.updateAndGet(collections, (n) => n + 1)
    const collector: ReadonlyArray<Family> = [
      { name: "tusk_collector_up", help: "1 if PostgreSQL answered the exporter", type: "gauge", samples: [{ labels: {}, value: probed === undefined ? 0 : 1 }] },
      { name: "tusk_collector_collections_total", help: "Scrapes served", type: "counter", samples: [{ labels: {}, value: count }] },
      {
        name: "tusk_collector_last_collection_error",
        help: "1 if a query failed in the last scrape",
        type: "gauge",
        samples: [{ labels: {}, value: failed.length + decodeFailures.length > 0 ? 1 : 0 }]
      },
      {
        name: "tusk_collector_errors_total",
        help: "Failed queries (or query definitions) by name",
        type: "counter",
        samples: [...errors].map(([q, n]) => ({ labels: { query: q }, value: n }))
      },
      { name: "tusk_collector_collection_duration_seconds", help: "Time each query took in the last scrape", type: "gauge", samples: durations },
      { name: "tusk_collector_fencing_on", help: "1 if the instance is fenced", type: "gauge", samples: [{ labels: {}, value: state.fenced ? 1 : 0 }] },
      {
        name: "tusk_collector_pending_restart",
        help: "1 if PostgreSQL needs a restart to apply settings",
        type: "gauge",
        samples: [{ labels: {}, value: (probed?.pendingRestart.length ?? 0) > 0 ? 1 : 0 }]
      },
      {
        name: "tusk_collector_postgres_version",
        help: "PostgreSQL version",
        type: "gauge",
        samples: probed === undefined ? [] : [{ labels: { full: probed.version }, value: Number.parseFloat(probed.version) || 0 }]
      }
    ]
    return render([...collector, ...families])
  })

  const run = Runtime.runPromise(runtime)
  yield* Effect.acquireRelease(
    Effect.sync(() =>
      Bun.serve({
        hostname: settings.httpHost,
        port: settings.metricsPort,
        fetch: (request) =>
          new URL(request.url).pathname === "/metrics"
            ? run(collect.pipe(
              Effect.map((text) => new Response(text, { headers: { "content-type": "text/plain; version=0.0.4" } })),
              Effect.catchAllCause((cause) => Effect.succeed(new Response(`collection failed: ${cause}\n`, { status: 500 })))
            ))
            : new Response("not found\n", { status: 404 })
      })
    ),
    (server) => Effect.promise(() => server.stop(true))
  )
  yield* Effect.logInfo("metrics listening").pipe(Effect.annotateLogs({ port: settings.metricsPort }))
})
