/**
 * `tusk controller` as processes against the real API server: the compiled binary over TLS
 * with a client certificate and with a service-account token, leader election between two
 * replicas with hand-over when the leader dies, clean SIGTERM shutdown releasing the lease,
 * and a steady state without writes or lists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { clusterManifest, compile, installClusterCrd, leaseHolder, serviceAccountKubeconfig, startController, type Controller } from "./process.ts"
import { eventually, insideOrRerun, kube, namespace, requestCounts, requestDelta } from "./support.ts"

const steadySeconds = Number(process.env["TUSK_STEADY_SECONDS"] ?? "300")

if (insideOrRerun(import.meta.path, 60_000 + steadySeconds * 1000)) {
  let lk: LocalKubeHandle
  let bin: Awaited<ReturnType<typeof compile>>
  const running: Array<Controller> = []
  const start = (...args: Parameters<typeof startController>) => {
    const c = startController(...args)
    running.push(c)
    return c
  }

  beforeAll(async () => {
    lk = await kube()
    ;[bin] = await Promise.all([compile(), installClusterCrd(lk)])
  }, 180_000)

  afterAll(async () => {
    for (const c of running) c.proc.kill("SIGKILL")
    await Promise.all(running.map((c) => c.exited))
    bin?.remove()
  })

  describe("tusk controller (compiled)", () => {
    test("two replicas, one with a client certificate, one with a service-account token: one leads, the other takes over when it dies", async () => {
      const ns = await namespace(lk, "ctl-le")
      const saKubeconfig = await serviceAccountKubeconfig(lk, ns, bin.dir)
      const common = ["--leader-elect", `--leader-election-namespace=${ns}`, `--namespace=${ns}`]
      const a = start("replica-a", bin.binary, [`--kubeconfig=${lk.kubeconfig}`, ...common])
      await eventually("replica-a leads", async () => (a.has("became leader") ? true : undefined))
      const b = start("replica-b", bin.binary, [...common], { KUBECONFIG: saKubeconfig })
      await eventually("both ready", async () => ((await a.readyz()) === 200 && (await b.readyz()) === 200 ? true : undefined))
      expect(await leaseHolder(lk, ns)).toBe("replica-a")
      expect(b.has("became leader")).toBe(false)

      // Only the leader reconciles; its logs carry controller, namespace, name and a reconcile id.
      await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(clusterManifest("one", ns)) })
      await eventually("leader reconciles", async () => (a.has("cluster observed", (l) => l.name === "one") ? true : undefined))
      const line = a.logs.find((l) => l.msg === "cluster observed")!
      expect(line).toMatchObject({ controller: "cluster", namespace: ns, name: "one", level: "info" })
      expect(String(line.reconcileID)).toMatch(/^[0-9a-f-]{36}$/)
      await Bun.sleep(1_000)
      expect(b.has("cluster observed")).toBe(false)

      // SIGKILL: no release, so the standby waits out the lease.
      a.proc.kill("SIGKILL")
      const killedAt = Date.now()
      await a.exited
      await eventually("replica-b leads", async () => (b.has("became leader") ? true : undefined), 30_000)
      const handover = Date.now() - killedAt
      console.log(`hand-over after SIGKILL of the leader: ${handover} ms`)
      expect(handover).toBeLessThan(15_000 + 2_500)
      expect(await leaseHolder(lk, ns)).toBe("replica-b")
      await eventually("new leader reconciles", async () => (b.has("cluster observed", (l) => l.name === "one") ? true : undefined))

      // SIGTERM: clean exit, lease released at once.
      const termAt = Date.now()
      b.proc.kill("SIGTERM")
      const code = await b.exited
      console.log(`SIGTERM to exit: ${Date.now() - termAt} ms, exit code ${code}`)
      expect(b.has("released leadership")).toBe(true)
      expect(await leaseHolder(lk, ns)).toBe("")
      expect(Date.now() - termAt).toBeLessThan(5_000)
      // A third replica takes the released lease without waiting for expiry.
      const c = start("replica-c", bin.binary, [`--kubeconfig=${lk.kubeconfig}`, ...common])
      const cStart = Date.now()
      await eventually("replica-c leads", async () => (c.has("became leader") ? true : undefined), 10_000)
      console.log(`acquisition of a released lease: ${Date.now() - cStart} ms after start`)
      c.proc.kill("SIGTERM")
      expect(await c.exited).toBe(0)
    }, 120_000)

    test(`steady state: no write and no list over ${steadySeconds} s`, async () => {
      const ns = await namespace(lk, "ctl-steady")
      for (const n of ["s1", "s2", "s3"]) await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(clusterManifest(n, ns)) })
      const c = start("steady", bin.binary, [`--kubeconfig=${lk.kubeconfig}`, `--namespace=${ns}`])
      await eventually("ready", async () => ((await c.readyz()) === 200 ? true : undefined))
      await eventually("reconciled", async () => (c.logs.filter((l) => l.msg === "cluster observed").length >= 3 ? true : undefined))
      const scrape = async () => {
        const text = await c.metrics()
        const value = (re: RegExp) => Number(text.match(re)?.[1] ?? "NaN")
        return {
          lists: value(/^tusk_informer_lists_total\{resource="clusters"\} (\S+)$/m),
          watches: value(/^tusk_informer_watches_total\{resource="clusters"\} (\S+)$/m),
          reconciles: value(/^tusk_reconcile_total\{queue="cluster",result="success"\} (\S+)$/m),
        }
      }
      const before = await requestCounts(lk)
      const ours0 = await scrape()
      await Bun.sleep(steadySeconds * 1000)
      const after = await requestCounts(lk)
      const ours1 = await scrape()
      const delta = requestDelta(before, after)
      console.log(`API server requests over ${steadySeconds} s (all clients):`, JSON.stringify(delta))
      console.log("operator's own counters before/after:", JSON.stringify(ours0), JSON.stringify(ours1))
      // Nothing of ours: no list, no write, on clusters or events.
      const ours = Object.entries(delta).filter(([k]) => k.includes("postgresql.tusk.dev/") || k.includes("events.k8s.io/"))
      expect(ours.filter(([k]) => !k.startsWith("WATCH "))).toEqual([])
      expect(ours1.lists).toBe(ours0.lists)
      expect(ours1.reconciles).toBe(ours0.reconciles)
      expect(ours1.watches - ours0.watches).toBeLessThanOrEqual(Math.ceil(steadySeconds / 180) + 1)
      c.proc.kill("SIGTERM")
      expect(await c.exited).toBe(0)
    }, 60_000 + steadySeconds * 1000)
  })
}
