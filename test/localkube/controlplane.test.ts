/**
 * The local control plane, exercised with the real kubectl inside its network namespace.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { localKube, startTimeoutMs, type LocalKubeHandle } from "./harness.ts"
import * as Layout from "./layout.ts"
import * as LocalKube from "./controlplane/LocalKube.ts"
import * as Network from "./controlplane/Network.ts"
import { apiServerUrl } from "./controlplane/Kubeconfig.ts"
import { spawnReaper } from "./controlplane/Reaper.ts"
import * as Supervisor from "./controlplane/Supervisor.ts"
import { registerUser } from "./controlplane/Users.ts"

let lk: LocalKubeHandle

beforeAll(async () => {
  lk = await localKube()
}, startTimeoutMs)

const json = async <A>(args: ReadonlyArray<string>): Promise<A> => JSON.parse(await lk.kubectl([...args, "-o", "json"])) as A

/** Polls until `check` returns a value other than undefined. */
const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(200)
  }
}

const apply = (obj: object) => lk.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify(obj) })

const namespaces: Array<string> = []
/** A fresh namespace per test; all are deleted after the suite (the cluster may be shared). */
const namespace = async (prefix: string): Promise<string> => {
  const ns = `lk-${prefix}-${process.pid}-${namespaces.length}`
  await lk.kubectl(["create", "namespace", ns])
  namespaces.push(ns)
  return ns
}

afterAll(async () => {
  if (namespaces.length > 0) await lk.kubectl(["delete", "namespace", "--wait=false", "--ignore-not-found", ...namespaces])
})

describe("control plane", () => {
  test("reports the pinned Kubernetes version, server and kubectl alike", async () => {
    const server = JSON.parse(await lk.kubectl(["get", "--raw", "/version"])) as { gitVersion: string; major: string; minor: string }
    expect(server.gitVersion).toBe(Layout.kubernetesVersion)
    expect(`v${server.major}.${server.minor}`).toBe(Layout.kubernetesVersion.split(".").slice(0, 2).join("."))
    const client = JSON.parse(await lk.kubectl(["version", "--client", "-o", "json"])) as { clientVersion: { gitVersion: string } }
    expect(client.clientVersion.gitVersion).toBe(Layout.kubernetesVersion)
  })

  test("lists the built-in namespaces", async () => {
    const names = (await lk.kubectl(["get", "ns", "-o", "name"])).split("\n")
    expect(names).toEqual(expect.arrayContaining(["namespace/default", "namespace/kube-system", "namespace/kube-node-lease", "namespace/kube-public"]))
  })

  test("is reused, not restarted, by a second up", async () => {
    const before = Supervisor.readPidDir(lk.service.paths.pids).map((e) => e.record.pid).sort()
    const again = await Effect.runPromise(lk.service.up)
    expect(again.started).toBe(false)
    expect(Supervisor.readPidDir(lk.service.paths.pids).map((e) => e.record.pid).sort()).toEqual(before)
  })

  test("garbage-collects a child whose owner is deleted", async () => {
    const ns = await namespace("gc")
    await lk.kubectl(["create", "configmap", "owner", "-n", ns])
    const owner = await json<{ metadata: { uid: string } }>(["get", "configmap", "owner", "-n", ns])
    await apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "child",
        namespace: ns,
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid }],
      },
    })
    await lk.kubectl(["delete", "configmap", "owner", "-n", ns, "--wait=false"])
    await eventually("the child to be collected", async () => {
      const out = await lk.kubectl(["get", "configmap", "child", "-n", ns, "--ignore-not-found", "-o", "name"])
      return out.trim() === "" ? true : undefined
    })
  })

  test("gives a ServiceAccount working tokens and RBAC denies what its Role does not grant", async () => {
    const ns = await namespace("rbac")
    await lk.kubectl(["create", "serviceaccount", "reader", "-n", ns])
    await lk.kubectl(["create", "role", "cm-reader", "-n", ns, "--verb=get,list", "--resource=configmaps"])
    await lk.kubectl(["create", "rolebinding", "reader", "-n", ns, "--role=cm-reader", `--serviceaccount=${ns}:reader`])
    // A legacy token Secret is filled by the controller manager's token controller.
    await apply({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/service-account-token",
      metadata: { name: "reader-token", namespace: ns, annotations: { "kubernetes.io/service-account.name": "reader" } },
    })
    const legacy = await eventually("the token controller to fill the Secret", async () => {
      const s = await json<{ data?: { token?: string; "ca.crt"?: string } }>(["get", "secret", "reader-token", "-n", ns])
      return s.data?.token === undefined || s.data["ca.crt"] === undefined ? undefined : Buffer.from(s.data.token, "base64").toString()
    })
    const requested = (await lk.kubectl(["create", "token", "reader", "-n", ns, "--duration=10m"])).trim()

    const dir = mkdtempSync(join(tmpdir(), "lk-token-"))
    try {
      for (const [i, token] of [legacy, requested].entries()) {
        const kubeconfig = join(dir, `sa-${i}.kubeconfig`)
        writeFileSync(
          kubeconfig,
          JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "lk", cluster: { server: apiServerUrl, "certificate-authority": lk.service.paths.caCert } }],
            users: [{ name: "sa", user: { token } }],
            contexts: [{ name: "lk", context: { cluster: "lk", user: "sa", namespace: ns } }],
            "current-context": "lk",
          }),
        )
        const as = (args: ReadonlyArray<string>) => lk.exec(["kubectl", `--kubeconfig=${kubeconfig}`, ...args])
        const whoami = await as(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])
        expect(whoami.stdout).toBe(`system:serviceaccount:${ns}:reader`)
        const allowed = await as(["get", "configmaps"])
        expect(allowed.exitCode).toBe(0)
        const denied = await as(["get", "secrets"])
        expect(denied.exitCode).not.toBe(0)
        expect(denied.stderr).toContain(`User "system:serviceaccount:${ns}:reader" cannot list resource "secrets"`)
        const deniedWrite = await as(["create", "configmap", "nope"])
        expect(deniedWrite.exitCode).not.toBe(0)
        expect(deniedWrite.stderr).toContain("forbidden")
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("gives a Service a ClusterIP that CoreDNS resolves, also through the kube-dns ClusterIP", async () => {
    const ns = await namespace("dns")
    await lk.kubectl(["create", "service", "clusterip", "web", "-n", ns, "--tcp=80:8080"])
    const svc = await json<{ spec: { clusterIP: string } }>(["get", "service", "web", "-n", ns])
    expect(svc.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/)
    const name = `web.${ns}.svc.${Layout.clusterDomain}`
    for (const server of [Layout.dnsServiceIp, Layout.hostAddress]) {
      const answer = await eventually(`${name} at ${server}`, async () => {
        const r = await lk.exec(["dig", `@${server}`, "+short", "+time=1", "+tries=1", name])
        return r.stdout.trim() === "" ? undefined : r.stdout.trim()
      })
      expect(answer).toBe(svc.spec.clusterIP)
    }
    // Nothing outside cluster.local is answered: there is no forwarder.
    const outside = await lk.exec(["dig", `@${Layout.dnsServiceIp}`, "+time=1", "+tries=1", "example.com"])
    expect(outside.stdout).not.toContain("NOERROR")
  })

  test("routes a pod at layer 3 as layout.ts describes: Services and DNS answer it through kube-proxy", async () => {
    // What a node agent does for each pod: its own netns, a veth whose host end sits in the
    // cluster netns with a /32 route, and a default route via the link-local gateway.
    const podNs = `lkpod-${process.pid}`
    const hostEnd = `lkp${process.pid % 100000}`
    const podIp = "10.244.250.7"
    const sh = (argv: ReadonlyArray<string>) => {
      const r = Bun.spawnSync([...argv])
      if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`)
      return r.stdout.toString()
    }
    const inPod = (argv: ReadonlyArray<string>) => Bun.spawnSync(["ip", "netns", "exec", podNs, ...argv])
    sh(["ip", "netns", "add", podNs])
    try {
      const ns = lk.service.netns
      sh(["ip", "-n", ns, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", podNs])
      sh(["ip", "-n", ns, "link", "set", hostEnd, "up"])
      // The gateway address on the host end answers the pod's ARP even though the
      // cluster netns has no route to 169.254.0.0/16 (its default route is unreachable).
      sh(["ip", "-n", ns, "addr", "add", `${Layout.podGateway}/32`, "dev", hostEnd, "scope", "link"])
      sh(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", `net.ipv4.conf.${hostEnd}.proxy_arp=1`])
      sh(["ip", "-n", ns, "route", "add", `${podIp}/32`, "dev", hostEnd, "src", Layout.hostAddress])
      sh(["ip", "-n", podNs, "link", "set", "lo", "up"])
      sh(["ip", "-n", podNs, "link", "set", "eth0", "up"])
      sh(["ip", "-n", podNs, "addr", "add", `${podIp}/32`, "dev", "eth0"])
      sh(["ip", "-n", podNs, "route", "add", Layout.podGateway, "dev", "eth0", "scope", "link"])
      sh(["ip", "-n", podNs, "route", "add", "default", "via", Layout.podGateway, "dev", "eth0"])

      const dig = inPod(["dig", `@${Layout.dnsServiceIp}`, "+short", "+time=2", "+tries=2", `kubernetes.default.svc.${Layout.clusterDomain}`])
      expect(dig.stdout.toString().trim()).toBe(Layout.apiServerServiceIp)
      // The API server through the kubernetes Service, as an in-cluster client reaches it.
      const version = inPod(["curl", "-sS", "--max-time", "5", "--cacert", lk.service.paths.caCert, `https://${Layout.apiServerServiceIp}/version`])
      expect(JSON.parse(version.stdout.toString()).gitVersion).toBe(Layout.kubernetesVersion)
    } finally {
      Bun.spawnSync(["ip", "-n", lk.service.netns, "link", "del", hostEnd])
      Bun.spawnSync(["ip", "netns", "del", podNs])
    }
  })

  test("leaves a Job's pod Pending and unschedulable while there are no nodes", async () => {
    const ns = await namespace("job")
    await lk.kubectl(["create", "job", "hello", "-n", ns, "--image=tusk/client:test", "--", "true"])
    type Pod = { status: { phase: string; conditions?: Array<{ type: string; status: string; reason?: string }> } }
    const pod = await eventually("the scheduler to give up on the Job's pod", async () => {
      const list = await json<{ items: Array<Pod> }>(["get", "pods", "-n", ns, "-l", "job-name=hello"])
      const p = list.items[0]
      const scheduled = p?.status.conditions?.find((c) => c.type === "PodScheduled")
      return scheduled?.status === "False" ? { phase: p?.status.phase, reason: scheduled.reason } : undefined
    })
    expect(pod).toEqual({ phase: "Pending", reason: "Unschedulable" })
  })

  test("serves the Tusk CRDs and refuses a bad Cluster naming the field", async () => {
    const crdDir = join(LocalKube.repoRoot, "manifests", "crd")
    expect(existsSync(crdDir)).toBe(true)
    await lk.kubectl(["apply", "--server-side", "--force-conflicts", "-k", crdDir])
    await lk.kubectl(["wait", "--for=condition=Established", "--timeout=30s", "crd/clusters.postgresql.tusk.dev"])
    const ns = await namespace("crd")
    const good = readFileSync(join(LocalKube.repoRoot, "manifests", "samples", "cluster-minimal.yaml"), "utf8")
    await lk.kubectl(["apply", "--server-side", "--dry-run=server", "-n", ns, "-f", "-"], { stdin: good })
    const bad = await lk.exec(["kubectl", "apply", "--server-side", "--dry-run=server", "-n", ns, "-f", "-"], {
      stdin: good.replace("instances: 2", "instances: 0"),
    })
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toContain("spec.instances")
    // A CEL rule (x-kubernetes-validations) is enforced too.
    const noSize = await lk.exec(["kubectl", "apply", "--server-side", "--dry-run=server", "-n", ns, "-f", "-"], {
      stdin: good.replace(/\n\s+size: 1Gi/, "\n    storageClass: standard"),
    })
    expect(noSize.exitCode).not.toBe(0)
    expect(noSize.stderr).toContain("spec.storage")
    expect(noSize.stderr).toContain("size is required")
  })
})

describe("lifecycle", () => {
  // A second cluster under another name, so its whole life can be observed.
  const cluster = "lktest"
  let stateDir = ""
  let service: LocalKube.LocalKubeService

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), "localkube-"))
    service = LocalKube.make(LocalKube.configFor(cluster, stateDir))
  })

  afterAll(() => {
    Effect.runSync(Effect.ignore(service.down))
    rmSync(stateDir, { recursive: true, force: true })
  })

  test(
    "starts beside the shared cluster, node credentials work, and the reaper's down leaves no process, namespace or mount",
    async () => {
      const up = await Effect.runPromise(service.up)
      expect(up.started).toBe(true)
      const pids = Supervisor.readPidDir(service.paths.pids).map((e) => e.record)
      expect(pids.length).toBe(6)
      expect(pids.every(Supervisor.isAlive)).toBe(true)

      // Isolation: the only routes are its own ranges, everything else is unreachable.
      const routes = await Effect.runPromise(service.exec(["ip", "route"]))
      expect(routes.stdout).toContain("unreachable default")
      const links = await Effect.runPromise(service.exec(["ip", "-o", "link"]))
      expect(links.stdout.split("\n").filter((l) => l !== "").map((l) => l.split(": ")[1])).toEqual(["lo", Layout.hostInterface])

      // A node agent's identity: node 4 gets an address and a client allowed by the Node authorizer.
      const node = await Effect.runPromise(service.nodeCredentials(4))
      const addrs = await Effect.runPromise(service.exec(["ip", "-o", "addr", "show", Layout.hostInterface]))
      expect(addrs.stdout).toContain(`${Layout.nodeAddress(4)}/32`)
      const who = await Effect.runPromise(service.exec(["kubectl", `--kubeconfig=${node.kubeconfig}`, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"]))
      expect(who.stdout).toContain("system:nodes")
      const verify = Bun.spawnSync(["openssl", "verify", "-CAfile", node.caCert, node.servingCert])
      expect(verify.exitCode).toBe(0)

      // The reaper the harness relies on: it stops the cluster once its last user has ended.
      const users = [Bun.spawn(["sleep", "600"]), Bun.spawn(["sleep", "600"])]
      for (const u of users) registerUser(service.paths.users, u.pid)
      spawnReaper(cluster, stateDir, service.paths.log("reaper"))
      users[0]?.kill()
      await Bun.sleep(1500)
      expect(Network.netnsExists(cluster)).toBe(true)
      expect(pids.every(Supervisor.isAlive)).toBe(true)
      users[1]?.kill()
      await eventually("the reaper to stop the cluster", async () => (Network.netnsExists(cluster) ? undefined : true), 20_000)
      expect(await Bun.file(service.paths.log("reaper")).text()).toContain(`no users left; cluster ${cluster} is down`)
      // down is idempotent.
      await Effect.runPromise(service.down)
      expect(pids.some(Supervisor.isAlive)).toBe(false)
      expect(Network.netnsExists(cluster)).toBe(false)
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(Layout.clusterNetns(cluster))
      expect(Supervisor.readPidDir(service.paths.pids)).toEqual([])
      // The state survives: certificates are reused by the next up.
      expect(existsSync(service.paths.caCert)).toBe(true)
    },
    120_000,
  )
})
