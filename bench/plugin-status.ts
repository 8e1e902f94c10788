/**
 * How long `kubectl tusk status` takes on a healthy 3-instance Cluster on the local
 * Kubernetes: the compiled binary, started afresh each run inside the cluster network (as
 * a user's shell would run it), timed from exec to exit. Target: under 1 s.
 *
 * Run as root after `./node_modules/.bin/bun build.ts`:
 *   ./node_modules/.bin/bun bench/plugin-status.ts [runs=20] [namespace]
 * With a namespace, its healthy `mycluster` is measured; without, a namespace and the
 * sample Cluster are created and deleted afterwards. Writes bench/results/plugin-status.json.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { parse } from "yaml"
import { environment, eventually } from "../test/e2e/support/Environment.ts"

const runs = Number(process.argv[2] ?? 20)
const given = process.argv[3]
const repo = new URL("../", import.meta.url).pathname
const env = await environment()

const ns = given ?? `bench-plugin-${process.pid}`
if (given === undefined) {
  await env.kubectl(["create", "namespace", ns])
  const sample = parse(await Bun.file(`${repo}manifests/samples/cluster-example.yaml`).text())
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(sample))
}
try {
  await eventually("mycluster to be healthy", async () => {
    const phase = await env.kubectl(["-n", ns, "get", "cluster", "mycluster", "-o", "jsonpath={.status.phase}"])
    return phase === "Cluster in healthy state" ? phase : undefined
  }, 6 * 60_000)
  // One shell inside the network namespace times each run, so entering the namespace is not counted.
  const time = async (args: string) => {
    const script = `for i in $(seq 0 ${runs}); do s=$(date +%s%N); ${repo}dist/kubectl-tusk ${args} >/dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`
    const r = await env.lk.exec(["bash", "-c", script])
    if (r.exitCode !== 0) throw new Error(`kubectl-tusk ${args} failed: ${r.stderr}`)
    // The first run warms the page cache for the 110 MB binary; it is reported apart.
    const [first, ...rest] = r.stdout.trim().split("\n").map((us) => Number(us) / 1000)
    return { first, sorted: [...rest].sort((a, b) => a - b) }
  }
  const loadBefore = loadavg()[0]
  const { first, sorted: s } = await time(`status mycluster -n ${ns}`)
  // The floor: starting the binary and printing its version, no API call.
  const startup = (await time("version")).sorted
  const q = (p: number, xs = s) => xs[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1) + 0.5))] ?? NaN
  const out = {
    measuredAt: new Date().toISOString(),
    command: `./node_modules/.bin/bun bench/plugin-status.ts ${runs}${given === undefined ? "" : ` ${given}`}`,
    what: "wall time of dist/kubectl-tusk status mycluster (healthy, 3 instances), process start to exit, inside the local Kubernetes network on a 2-core machine shared with other tests",
    runs: s.length,
    medianMs: q(0.5),
    minMs: s[0],
    p90Ms: q(0.9),
    maxMs: s[s.length - 1],
    firstRunMs: first,
    samplesMs: s,
    startupOnly: { command: "kubectl-tusk version", medianMs: q(0.5, startup), minMs: startup[0], maxMs: startup[startup.length - 1] },
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
  }
  mkdirSync(`${repo}bench/results`, { recursive: true })
  writeFileSync(`${repo}bench/results/plugin-status.json`, JSON.stringify(out, null, 2) + "\n")
  console.log(JSON.stringify({ ...out, samplesMs: undefined }, null, 2))
} finally {
  if (given === undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
}
