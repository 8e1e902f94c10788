import { describe, expect, test } from "bun:test"
import { Effect, Metric, MetricBoundaries } from "effect"
import * as Prometheus from "./Prometheus.ts"

describe("Prometheus.render", () => {
  test("counters, gauges and cumulative histograms in text format", async () => {
    const c = Metric.counter("test_render_total", { description: "A counter", incremental: true })
    const g = Metric.gauge("test_render_gauge")
    const h = Metric.histogram("test_render_seconds", MetricBoundaries.fromIterable([0.1, 1]), "A histogram")
    const text = await Effect.runPromise(Effect.gen(function* () {
      yield* Metric.incrementBy(Metric.tagged(c, "queue", 'a"b'), 2)
      yield* Metric.set(g, 7)
      for (const v of [0.05, 0.5, 5]) yield* Metric.update(h, v)
      return yield* Prometheus.scrape
    }))
    expect(text).toContain('# HELP test_render_total A counter\n# TYPE test_render_total counter\ntest_render_total{queue="a\\"b"} 2\n')
    expect(text).toContain("# TYPE test_render_gauge gauge\ntest_render_gauge 7\n")
    expect(text).toContain('test_render_seconds_bucket{le="0.1"} 1\n')
    expect(text).toContain('test_render_seconds_bucket{le="1"} 2\n')
    expect(text).toContain('test_render_seconds_bucket{le="+Inf"} 3\n')
    expect(text).toContain("test_render_seconds_sum 5.55\ntest_render_seconds_count 3")
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+\n/)
  })
})
