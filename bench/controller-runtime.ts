/**
 * Controller-runtime benchmark against the local API server.
 *
 *   ./node_modules/.bin/bun bench/controller-runtime.ts
 *
 * - event-to-reconcile latency: a Cluster annotation is patched, and the time from the
 *   write to the start of its reconcile (and from the watch event to it) is recorded;
 * - RSS of the compiled runtime-only `tusk controller` watching 0 and 100 Clusters;
 * - API requests per minute at rest, counted by the operator itself (rest_client_requests_total)
 *   with leader election on, and the watch bookmarks it receives.
 *
 * Prints the figures and writes bench/results/controller-runtime.json. Env: BENCH_SAMPLES
 * (default 300), BENCH_REST_SECONDS (default 300).
 */
import { Effect, Exit, Fiber, type Layer, Scope, Stream } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Controller from "../src/kube/Controller.ts"
import * as Informer from "../src/kube/Informer.ts"
import * as KubeClient from "../src/kube/KubeClient.ts"
import { clusters } from "../src/controller/Kinds.ts"
import { localKube } from "../test/localkube/harness.ts"
import { clusterManifest, compile, entries, installClusterCrd, startController, type Controller as Proc } from "../test/kube/process.ts"
import { adminLayer, bun, deleteNamespaces, eventually, inside, namespace } from "../test/kube/support.ts"

const samples = Number(process.env["BENCH_SAMPLES"] ?? "300")
const restSeconds = Number(process.env["BENCH_REST_SECONDS"] ?? "300")

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN
}
const summary = (xs: ReadonlyArray<number>) => ({
  n: xs.length,
  p50: round(quantile(xs, 0.5)),
  p90: round(quantile(xs, 0.9)),
  p99: round(quantile(xs, 0.99)),
  min: round(Math.min(...xs)),
  max: round(Math.max(...xs)),
})
const round = (x: number) => Math.round(x * 100) / 100

const applyClusters = async (lk: Awaited<ReturnType<typeof localKube>>, ns: string, n: number) => {
  const items = Array.from({ length: n }, (_, i) => clusterManifest(`c${i}`, ns))
  await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }) })
}

/** Write → watch event → reconcile start, in this process, one patch at a time. */
const latency = async (layer: Layer.Layer<KubeClient.KubeClient>, ns: string) => {
  const written = new Map<string, number>()
  const evented = new Map<string, number>()
  const writeToReconcile: Array<number> = []
  const eventToReconcile: Array<number> = []
  let done: (() => void) | undefined
  const scope = Effect.runSync(Scope.make())
  const client = await Effect.runPromise(Effect.provide(KubeClient.KubeClient, layer))
  const informer = await Effect.runPromise(Informer.make(clusters, { namespace: ns }).pipe(Effect.provide(layer), Scope.extend(scope)))
  await Effect.runPromise(informer.synced)
  const watcher = Effect.runFork(informer.changes.pipe(Stream.runForEach((c) => Effect.sync(() => {
    const mark = c.object.metadata.annotations?.["bench.tusk.dev/mark"]
    if (mark !== undefined && !evented.has(mark)) evented.set(mark, performance.now())
  }))))
  const reconcile: Controller.Reconcile = (req) =>
    Effect.flatMap(informer.get(req.key), (o) => Effect.sync(() => {
      const now = performance.now()
      const mark = o._tag === "Some" ? o.value.metadata.annotations?.["bench.tusk.dev/mark"] : undefined
      const t0 = mark === undefined ? undefined : written.get(mark)
      if (mark === undefined || t0 === undefined) return
      written.delete(mark)
      writeToReconcile.push(now - t0)
      const te = evented.get(mark)
      if (te !== undefined) eventToReconcile.push(now - te)
      done?.()
    }))
  const controller = Effect.runFork(Controller.run({ name: "bench", primary: informer, reconcile, workers: 4 }).pipe(Scope.extend(scope)))
  for (let i = 0; i < samples + 20; i++) {
    const name = `c${i % 10}`
    const mark = `m${i}`
    const reconciled = new Promise<void>((resolve) => (done = resolve))
    written.set(mark, performance.now())
    await Effect.runPromise(client.patch(clusters, name, { type: "merge", patch: { metadata: { annotations: { "bench.tusk.dev/mark": mark } } } }, { namespace: ns }))
    await Promise.race([reconciled, Bun.sleep(5_000)])
    if (i === 19) {
      // warm-up done
      writeToReconcile.length = 0
      eventToReconcile.length = 0
    }
  }
  await Effect.runPromise(Effect.all([Fiber.interrupt(watcher), Fiber.interrupt(controller), Scope.close(scope, Exit.void)]))
  return { writeToReconcileMs: summary(writeToReconcile), eventToReconcileMs: summary(eventToReconcile) }
}

const rssKiB = async (pid: number) => {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? "NaN")
}
const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)

const counter = (text: string, name: string, labels: string) => {
  let total = 0
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) && line.includes(labels)) total += Number(line.slice(line.lastIndexOf(" ") + 1))
  return total
}

/** The compiled runtime-only controller on `ns`: RSS once settled, then requests at rest. */
const processFigures = async (binary: { binary: string }, lk: Awaited<ReturnType<typeof localKube>>, ns: string, expected: number, rest: number) => {
  const p: Proc = startController(`bench-${ns}`, binary, [`--kubeconfig=${lk.kubeconfig}`, `--namespace=${ns}`, "--leader-elect", `--leader-election-namespace=${ns}`])
  try {
    await eventually("ready", async () => ((await p.readyz()) === 200 ? true : undefined), 60_000)
    await eventually("all reconciled", async () => (p.logs.filter((l) => l.msg === "cluster observed").length >= expected ? true : undefined), 120_000)
    await Bun.sleep(10_000)
    const rss: Array<number> = []
    for (let i = 0; i < 5; i++) {
      rss.push(await rssKiB(p.proc.pid))
      await Bun.sleep(1_000)
    }
    const result: Record<string, unknown> = { clusters: expected, rssMiB: { median: round(median(rss) / 1024), min: round(Math.min(...rss) / 1024), max: round(Math.max(...rss) / 1024), samples: rss.length } }
    if (rest > 0) {
      const before = await p.metrics()
      await Bun.sleep(rest * 1000)
      const after = await p.metrics()
      const perMinute = (name: string, labels: string) => round(((counter(after, name, labels) - counter(before, name, labels)) * 60) / rest)
      result.atRest = {
        seconds: rest,
        requestsPerMinute: {
          GET: perMinute("rest_client_requests_total", 'method="GET"'),
          PUT: perMinute("rest_client_requests_total", 'method="PUT"'),
          POST: perMinute("rest_client_requests_total", 'method="POST"'),
          PATCH: perMinute("rest_client_requests_total", 'method="PATCH"'),
          DELETE: perMinute("rest_client_requests_total", 'method="DELETE"'),
          WATCH: perMinute("rest_client_requests_total", 'method="WATCH"'),
        },
        listsPerMinute: perMinute("tusk_informer_lists_total", 'resource="clusters"'),
        reconcilesPerMinute: perMinute("tusk_reconcile_total", 'queue="cluster"'),
        watchEventsPerMinute: perMinute("tusk_informer_events_total", 'resource="clusters"'),
        rssMiBAfter: round((await rssKiB(p.proc.pid)) / 1024),
      }
    }
    return result
  } finally {
    p.proc.kill("SIGTERM")
    await p.exited
  }
}

if (!inside) {
  const lk = await localKube()
  const r = await lk.exec([bun, import.meta.path], { env: { BENCH_SAMPLES: String(samples), BENCH_REST_SECONDS: String(restSeconds) } })
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  process.exit(r.exitCode)
} else {
  const lk = await localKube()
  const bin = await compile(entries.observer)
  try {
    await installClusterCrd(lk)
    const nsLatency = await namespace(lk, "bench-latency")
    await applyClusters(lk, nsLatency, 10)
    const layer = await adminLayer(lk)
    const lat = await latency(layer, nsLatency)
    console.log(`event-to-reconcile (${lat.writeToReconcileMs.n} patches): write→reconcile p50 ${lat.writeToReconcileMs.p50} ms, p99 ${lat.writeToReconcileMs.p99} ms; watch event→reconcile p50 ${lat.eventToReconcileMs.p50} ms, p99 ${lat.eventToReconcileMs.p99} ms`)

    const ns0 = await namespace(lk, "bench-empty")
    const empty = await processFigures(bin, lk, ns0, 0, 0)
    console.log(`RSS with 0 Clusters: ${JSON.stringify(empty.rssMiB)} MiB`)
    const ns100 = await namespace(lk, "bench-100")
    await applyClusters(lk, ns100, 100)
    const hundred = await processFigures(bin, lk, ns100, 100, restSeconds)
    console.log(`RSS with 100 Clusters: ${JSON.stringify(hundred.rssMiB)} MiB`)
    console.log(`at rest over ${restSeconds} s: ${JSON.stringify(hundred.atRest)}`)

    const result = {
      benchmark: "controller-runtime",
      date: new Date().toISOString(),
      bun: Bun.version,
      machine: { cpus: navigator.hardwareConcurrency },
      eventToReconcile: lat,
      idle: empty,
      hundredClusters: hundred,
    }
    const dir = join(import.meta.dir, "results")
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, "controller-runtime.json"), JSON.stringify(result, null, 2) + "\n")
    console.log(`wrote ${join(dir, "controller-runtime.json")}`)
  } finally {
    await deleteNamespaces(lk)
    bin.remove()
  }
}
