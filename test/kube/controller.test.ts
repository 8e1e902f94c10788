/**
 * `tusk controller` as processes against the real API server. The compiled product binary
 * talks TLS with a client certificate and with a service-account token, elects one leader,
 * hands over when the leader dies and releases the lease on SIGTERM. The compiled
 * runtime-only binary (observe-only setup) shows that only the leader reconciles, with
 * structured logs, and that the steady state issues no write and no list.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { LocalKubeHandle } from "../localkube/harness.ts"
import { clusterManifest, compile, entries, installClusterCrd, leaseHolder, serviceAccountKubeconfig, startController, type Controller } from "./process.ts"
import { deleteNamespaces, dispatchedByFlowSchema, eventually, flowSchemas, insideOrRerun, kube, namespace } from "./support.ts"

const steadySeconds = Number(process.env["TUSK_STEADY_SECONDS"] ?? "300")

if (insideOrRerun(import.meta.path, 120_000 + steadySeconds * 1000)) {
  let lk: LocalKubeHandle
  let main: Awaited<ReturnType<typeof compile>>
  let observer: Awaited<ReturnType<typeof compile>>
  const running: Array<Controller> = []
  const cleanups: Array<() => Promise<unknown>> = []
  const start = (...args: Parameters<typeof startController>) => {
    const c = startController(...args)
    running.push(c)
    return c
  }
  const metric = (text: string, re: RegExp) => Number(text.match(re)?.[1] ?? "0")

  beforeAll(async () => {
    lk = await kube()
    // Compiled first, so afterAll removes them even when the CRD step fails.
    main = await compile(entries.main)
    observer = await compile(entries.observer)
    await installClusterCrd(lk)
  }, 300_000)

  afterAll(async () => {
    for (const c of running) c.proc.kill("SIGKILL")
    await Promise.all(running.map((c) => c.exited))
    for (const f of cleanups) await f().catch(() => undefined)
    await deleteNamespaces(lk)
    main?.remove()
    observer?.remove()
  })

  describe("tusk controller", () => {
    test("compiled: client certificate and service-account token over TLS; one leader; hand-over on SIGKILL; release on SIGTERM", async () => {
      const ns = await namespace(lk, "ctl-le")
      const saKubeconfig = await serviceAccountKubeconfig(lk, ns, main.dir)
      cleanups.push(() => lk.kubectl(["delete", "clusterrolebinding", `tusk-controller-${ns}`]))
      const common = ["--leader-elect", `--leader-election-namespace=${ns}`, `--namespace=${ns}`]
      const a = start("replica-a", main, [`--kubeconfig=${lk.kubeconfig}`, ...common])
      await eventually("replica-a leads", async () => (a.has("became leader") ? true : undefined))
      const b = start("replica-b", main, [...common], { KUBECONFIG: saKubeconfig })
      // Ready = informers synced over TLS (each with its credential) and the election settled.
      await eventually("both ready", async () => ((await a.readyz()) === 200 && (await b.readyz()) === 200 ? true : undefined))
      expect(await leaseHolder(lk, ns)).toBe("replica-a")
      expect(b.has("became leader")).toBe(false)
      await eventually("replica-b waits", async () => (b.has("waiting for leadership") ? true : undefined), 5_000)

      // SIGKILL: no release, so the standby waits out the lease.
      a.proc.kill("SIGKILL")
      const killedAt = Date.now()
      await a.exited
      await eventually("replica-b leads", async () => (b.has("became leader") ? true : undefined), 30_000)
      const handover = Date.now() - killedAt
      console.log(`hand-over after SIGKILL of the leader: ${handover} ms (lease 15 s, retry 2 s)`)
      // Expiry is judged by the standby's own clock from when it saw the last renewal:
      // lease duration, give or take one retry period (more on a loaded machine).
      expect(handover).toBeLessThan(15_000 + 2 * 2_000)
      expect(await leaseHolder(lk, ns)).toBe("replica-b")

      // SIGTERM: clean exit, lease released at once.
      const termAt = Date.now()
      b.proc.kill("SIGTERM")
      const code = await b.exited
      const exitMs = Date.now() - termAt
      console.log(`SIGTERM to exit: ${exitMs} ms, exit code ${code}`)
      expect(code).toBe(0)
      expect(b.has("released leadership")).toBe(true)
      expect(b.has("controller stopped")).toBe(true)
      expect(await leaseHolder(lk, ns)).toBe("")
      expect(exitMs).toBeLessThan(5_000)
      // A new replica takes the released lease without waiting for it to expire.
      const c = start("replica-c", main, [`--kubeconfig=${lk.kubeconfig}`, ...common])
      const cStart = Date.now()
      await eventually("replica-c leads", async () => (c.has("became leader") ? true : undefined), 10_000)
      console.log(`acquisition of a released lease: ${Date.now() - cStart} ms after start`)
      c.proc.kill("SIGTERM")
      expect(await c.exited).toBe(0)
    }, 120_000)

    test("readyz stays false while the caches cannot sync; healthz is true", async () => {
      const ns = await namespace(lk, "ctl-ready")
      await lk.kubectl(["create", "serviceaccount", "nobody", "-n", ns])
      const token = (await lk.kubectl(["create", "token", "nobody", "-n", ns])).trim()
      const admin = JSON.parse(await Bun.file(lk.kubeconfig).text()) as { clusters: Array<{ name: string }> }
      const kubeconfig = `${observer.dir}/nobody.kubeconfig`
      await Bun.write(kubeconfig, JSON.stringify({
        apiVersion: "v1", kind: "Config", clusters: admin.clusters,
        users: [{ name: "nobody", user: { token } }],
        contexts: [{ name: "nobody", context: { cluster: admin.clusters[0]!.name, user: "nobody" } }],
        "current-context": "nobody",
      }))
      const c = start("unready", observer, [`--kubeconfig=${kubeconfig}`, `--namespace=${ns}`])
      await eventually("the list refused", async () => (c.has("list failed, retrying", (l) => l.error === "Forbidden") ? true : undefined))
      const readyz = await fetch(`http://127.0.0.1:${c.healthPort}/readyz`)
      expect(readyz.status).toBe(503)
      expect(await readyz.text()).toContain("not ready: informers-synced")
      expect((await fetch(`http://127.0.0.1:${c.healthPort}/healthz`)).status).toBe(200)
      c.proc.kill("SIGTERM")
      expect(await c.exited).toBe(0)
    })

    test(`runtime only: the leader alone reconciles, logs in JSON, and at rest makes no write and no list for ${steadySeconds} s`, async () => {
      const ns = await namespace(lk, "ctl-steady")
      for (const n of ["s1", "s2", "s3"]) await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(clusterManifest(n, ns)) })
      // Both replicas use the ServiceAccount, so the API server can attribute their requests.
      const saKubeconfig = await serviceAccountKubeconfig(lk, ns, observer.dir)
      cleanups.push(() => lk.kubectl(["delete", "clusterrolebinding", `tusk-controller-${ns}`]))
      const flows = flowSchemas(ns, "tusk-controller")
      await lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: flows.objects }) })
      cleanups.push(() => lk.kubectl(["delete", "flowschema", ...Object.values(flows.names)]))
      const common = [`--namespace=${ns}`, "--leader-elect", `--leader-election-namespace=${ns}`]
      const leader = start("obs-a", observer, common, { KUBECONFIG: saKubeconfig })
      await eventually("obs-a leads", async () => (leader.has("became leader") ? true : undefined))
      const standby = start("obs-b", observer, common, { KUBECONFIG: saKubeconfig })
      await eventually("both ready", async () => ((await leader.readyz()) === 200 && (await standby.readyz()) === 200 ? true : undefined))
      await eventually("reconciled", async () => (leader.logs.filter((l) => l.msg === "cluster observed").length >= 3 ? true : undefined))
      const line = leader.logs.find((l) => l.msg === "cluster observed" && l.name === "s1")!
      expect(line).toMatchObject({ controller: "cluster", namespace: ns, name: "s1", level: "info" })
      expect(String(line.reconcileID)).toMatch(/^[0-9a-f-]{36}$/)
      expect(typeof line.time).toBe("string")

      // A change reaches the leader's reconcile, never the standby's.
      await lk.kubectl(["label", "cluster", "s2", "-n", ns, "touched=yes"])
      await eventually("reconcile of the change", async () => (leader.logs.filter((l) => l.msg === "cluster observed" && l.name === "s2").length >= 2 ? true : undefined))
      await Bun.sleep(500)
      expect(standby.has("cluster observed")).toBe(false)
      expect(metric(await standby.metrics(), /^tusk_informer_lists_total\{resource="clusters"\} (\S+)$/m)).toBe(1)

      const scrape = async (c: Controller) => {
        const text = await c.metrics()
        return {
          lists: metric(text, /^tusk_informer_lists_total\{resource="clusters"\} (\S+)$/m),
          watches: metric(text, /^tusk_informer_watches_total\{resource="clusters"\} (\S+)$/m),
          reconciles: metric(text, /^tusk_reconcile_total\{queue="cluster",result="success"\} (\S+)$/m),
        }
      }
      await Bun.sleep(2_000)
      const before = await dispatchedByFlowSchema(lk)
      const ours0 = await Promise.all([scrape(leader), scrape(standby)])
      await Bun.sleep(steadySeconds * 1000)
      const after = await dispatchedByFlowSchema(lk)
      const ours1 = await Promise.all([scrape(leader), scrape(standby)])
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
      const server = { lease: delta(flows.names.lease), watch: delta(flows.names.watch), rest: delta(flows.names.rest) }
      console.log(`requests of both replicas over ${steadySeconds} s, counted by the API server: ${JSON.stringify(server)}`)
      console.log("leader, standby counters before:", JSON.stringify(ours0), "after:", JSON.stringify(ours1))
      // Nothing but lease renewals (leader: one PUT per 2 s; standby: one GET per 2 s) and re-opened watches.
      expect(server.rest).toBe(0)
      expect(server.lease).toBeLessThanOrEqual(Math.ceil((2 * steadySeconds) / 1.8) + 2)
      expect(server.watch).toBeLessThanOrEqual(2 * (Math.ceil(steadySeconds / 180) + 1))
      for (const i of [0, 1]) {
        expect(ours1[i]!.lists).toBe(ours0[i]!.lists)
        expect(ours1[i]!.reconciles).toBe(ours0[i]!.reconciles)
      }
      leader.proc.kill("SIGTERM")
      standby.proc.kill("SIGTERM")
      expect([await leader.exited, await standby.exited]).toEqual([0, 0])
    }, 120_000 + steadySeconds * 1000)
  })
}
