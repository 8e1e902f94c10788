/**
 * Cluster reconciler benchmark on the local Kubernetes (issue 7):
 * - time from `kubectl apply` of a 3-instance Cluster to phase "Cluster in healthy state",
 *   over BENCH_RUNS runs (default 5), each in a fresh namespace;
 * - resident memory of the operator process with 1 and with BENCH_CLUSTERS (default 20)
 *   single-instance Clusters reconciled.
 *
 *   ./node_modules/.bin/bun bench/cluster-create.ts
 *
 * Prints the figures and writes bench/results/cluster-create.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { environment, eventually } from "../test/e2e/support/Environment.ts"

const runs = Number(process.env["BENCH_RUNS"] ?? "5")
const many = Number(process.env["BENCH_CLUSTERS"] ?? "20")
const env = await environment()

const cluster = (name: string, instances: number) =>
  JSON.stringify({
    apiVersion: "postgresql.tusk.dev/v1",
    kind: "Cluster",
    metadata: { name },
    spec: { instances, storage: { size: "1Gi" } },
  })

const phase = (ns: string, name: string) => env.kubectl(["-n", ns, "get", "cluster", name, "-o", "jsonpath={.status.phase}"])
const healthy = (ns: string, name: string, timeoutMs = 10 * 60_000) =>
  eventually(`${ns}/${name} healthy`, async () => ((await phase(ns, name)) === "Cluster in healthy state" ? true : undefined), timeoutMs, 100)

/**
 * RSS in MiB of the operator pod's process. Pods here share the machine's /proc, so a
 * search inside the pod would see every `tusk controller` (and the searching shell): the
 * process is the one whose environment names the pod.
 */
const operatorRss = async () => {
  const pod = (await env.kubectl(["-n", "tusk-system", "get", "pods", "-l", "app.kubernetes.io/name=tusk", "--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}"])).trim()
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
      if (!argv[0]?.endsWith("/tusk") || argv[1] !== "controller") continue
      if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`POD_NAME=${pod}`)) continue
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN)
      return Math.round((kb / 1024) * 10) / 10
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no tusk controller process of pod ${pod}`)
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const createSeconds: Array<number> = []
for (let i = 0; i < runs; i++) {
  const ns = `bench-create-${process.pid}-${i}`
  await env.kubectl(["create", "namespace", ns])
  const started = performance.now()
  await env.kubectl(["-n", ns, "apply", "-f", "-"], cluster("bench", 3))
  await healthy(ns, "bench")
  createSeconds.push(Math.round((performance.now() - started) / 100) / 10)
  console.log(`run ${i + 1}: healthy after ${createSeconds.at(-1)} s`)
  await env.kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=120s"])
}

const manyNs = `bench-many-${process.pid}`
await env.kubectl(["create", "namespace", manyNs])
await env.kubectl(["-n", manyNs, "apply", "-f", "-"], cluster("c0", 1))
await healthy(manyNs, "c0")
await Bun.sleep(5_000)
const rssOne = await operatorRss()
for (let i = 1; i < many; i++) await env.kubectl(["-n", manyNs, "apply", "-f", "-"], cluster(`c${i}`, 1))
for (let i = 1; i < many; i++) await healthy(manyNs, `c${i}`, 20 * 60_000)
await Bun.sleep(5_000)
const rssMany = await operatorRss()
await env.kubectl(["delete", "namespace", manyNs, "--wait=false"])

const result = {
  when: new Date().toISOString(),
  load: readFileSync("/proc/loadavg", "utf8").trim(),
  applyToHealthySeconds: {
    runs,
    median: median(createSeconds),
    min: Math.min(...createSeconds),
    max: Math.max(...createSeconds),
    all: createSeconds,
  },
  operatorRssMiB: { oneCluster: rssOne, [`${many}Clusters`]: rssMany },
}
console.log(JSON.stringify(result, null, 2))
mkdirSync(new URL("results/", import.meta.url).pathname, { recursive: true })
writeFileSync(new URL("results/cluster-create.json", import.meta.url).pathname, JSON.stringify(result, null, 2) + "\n")
process.exit(0)
