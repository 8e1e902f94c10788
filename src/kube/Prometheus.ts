/**
 * Prometheus text exposition of Effect's metric registry (counters, gauges, histograms),
 * plus the process figures every exporter shows.
 */
import { Effect, Metric, MetricState, Option } from "effect"
import type { MetricPair } from "effect"

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const labels = (tags: ReadonlyArray<{ readonly key: string; readonly value: string }>, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const all = [...tags.map((t) => [t.key, t.value] as const), ...extra]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`
}

const num = (n: number | bigint) => (typeof n === "bigint" ? n.toString() : Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN")

/** Render a registry snapshot; series of one name are grouped under one HELP/TYPE. */
export const render = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, { help: string; type: string; lines: Array<string> }>()
  const family = (name: string, help: Option.Option<string>, type: string) => {
    let f = families.get(name)
    if (f === undefined) families.set(name, f = { help: Option.getOrElse(help, () => name), type, lines: [] })
    return f
  }
  const sorted = [...pairs].sort((a, b) =>
    a.metricKey.name.localeCompare(b.metricKey.name) || labels(a.metricKey.tags).localeCompare(labels(b.metricKey.tags)))
  for (const { metricKey: key, metricState: state } of sorted) {
    const name = key.name
    if (MetricState.isCounterState(state)) {
      family(name, key.description, "counter").lines.push(`${name}${labels(key.tags)} ${num(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      family(name, key.description, "gauge").lines.push(`${name}${labels(key.tags)} ${num(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const f = family(name, key.description, "histogram")
      // Effect's boundaries already end with +Inf.
      for (const [le, count] of state.buckets) f.lines.push(`${name}_bucket${labels(key.tags, [["le", num(le)]])} ${count}`)
      f.lines.push(`${name}_sum${labels(key.tags)} ${num(state.sum)}`)
      f.lines.push(`${name}_count${labels(key.tags)} ${state.count}`)
    }
  }
  const out: Array<string> = []
  for (const [name, f] of families) {
    out.push(`# HELP ${name} ${f.help.replace(/\n/g, " ")}`, `# TYPE ${name} ${f.type}`, ...f.lines)
  }
  return out.join("\n") + "\n"
}

const rss = Metric.gauge("process_resident_memory_bytes", { description: "Resident memory size in bytes" })
const heap = Metric.gauge("process_heap_bytes", { description: "JavaScript heap in use, in bytes" })
const cpu = Metric.gauge("process_cpu_seconds_total", { description: "User and system CPU time spent, in seconds" })
const start = Metric.gauge("process_start_time_seconds", { description: "Start time of the process since the Unix epoch, in seconds" })

/** Scrape: refresh the process figures, then render everything registered. */
export const scrape: Effect.Effect<string> = Effect.gen(function* () {
  const mem = process.memoryUsage()
  const usage = process.cpuUsage()
  yield* Metric.set(rss, mem.rss)
  yield* Metric.set(heap, mem.heapUsed)
  yield* Metric.set(cpu, (usage.user + usage.system) / 1e6)
  yield* Metric.set(start, Math.round(Date.now() / 1000 - process.uptime()))
  return render(yield* Metric.snapshot)
})
