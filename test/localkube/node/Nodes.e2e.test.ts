/**
 * Node agents with the real control plane: pods run as real processes and Kubernetes
 * (Deployments, Services, DNS, Jobs, PVCs, PDBs, drain, node lifecycle, EndpointSlices)
 * sees them as it would see real pods. Starts three node agents on the shared local
 * control plane, and removes them and their Node objects afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { localKube, startTimeoutMs } from "../harness.ts"
import * as Layout from "../layout.ts"
import * as LocalKube from "../controlplane/LocalKube.ts"
import { nodeDir, volumesDir } from "./Agent.ts"
import * as Nodes from "./Nodes.ts"
import * as Sandbox from "./Sandbox.ts"

const nodeCount = 3
let lk: LocalKube.LocalKubeService
const startedAgents: Array<number> = []

const kubectl = (args: ReadonlyArray<string>, stdin?: string) =>
  Effect.runPromise(lk.kubectl(args, stdin === undefined ? {} : { stdin }))
const json = async <A>(args: ReadonlyArray<string>): Promise<A> => JSON.parse(await kubectl([...args, "-o", "json"])) as A
const apply = (ns: string, obj: object) => kubectl(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj))

const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    const value = await check().catch((e: unknown) => {
      last = e
      return undefined
    })
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
    await Bun.sleep(250)
  }
}

let nsCount = 0
const namespaces: Array<string> = []
const namespace = async (prefix: string): Promise<string> => {
  const ns = `lkn-${prefix}-${process.pid}-${nsCount++}`
  await kubectl(["create", "namespace", ns])
  namespaces.push(ns)
  // The ServiceAccount admission plugin needs the namespace's default ServiceAccount.
  await eventually("default service account", async () => ((await kubectl(["get", "sa", "default", "-n", ns, "-o", "name"])) !== "" ? true : undefined))
  return ns
}

interface PodJson {
  metadata: { name: string; uid: string; creationTimestamp: string; deletionTimestamp?: string; labels?: Record<string, string> }
  spec: { nodeName?: string }
  status: {
    phase?: string
    podIP?: string
    conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>
    containerStatuses?: Array<{
      name: string
      ready: boolean
      restartCount: number
      state: { waiting?: { reason: string }; running?: object; terminated?: { exitCode: number; reason: string } }
      lastState: { terminated?: { exitCode: number; reason: string } }
    }>
  }
}

const pods = async (ns: string, selector?: string) =>
  (await json<{ items: Array<PodJson> }>(["get", "pods", "-n", ns, ...(selector === undefined ? [] : ["-l", selector])])).items
const ready = (p: PodJson) => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true

/** A pod running `script` in the client image (bash, psql, the machine's tools). */
const clientPod = (name: string, script: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: name } },
  spec: {
    restartPolicy: "Never",
    terminationGracePeriodSeconds: 2,
    containers: [{ name: "main", image: "tusk.dev/client:latest", command: ["bash", "-c", script], ...container }],
    ...extra,
  },
})

const podLog = (ns: string, pod: string, args: ReadonlyArray<string> = []) => kubectl(["logs", "-n", ns, pod, ...args])

class WrongPhase extends Error {}

/** Waits for a phase; a pod that ends in another terminal phase fails the wait at once, with its log. */
const waitPhase = async (ns: string, pod: string, phase: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const p = await json<PodJson>(["get", "pod", pod, "-n", ns]).catch(() => undefined)
    if (p?.status.phase === phase) return p
    if (p !== undefined && (p.status.phase === "Succeeded" || p.status.phase === "Failed")) {
      throw new WrongPhase(`${pod} is ${p.status.phase}, not ${phase}: ${await podLog(ns, pod).catch(() => "")}`)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pod} ${phase}`)
    await Bun.sleep(250)
  }
}

beforeAll(async () => {
  // LOCALKUBE_NAME picks an already running cluster other than the shared default one.
  const name = process.env["LOCALKUBE_NAME"]
  lk = name === undefined ? (await localKube()).service : LocalKube.make(LocalKube.configFor(name, process.env["LOCALKUBE_STATE"]))
  startedAgents.push(...(await Effect.runPromise(Nodes.ensureNodes(lk, nodeCount, { backoffInitialMs: 1000, backoffMaxMs: 10_000 }))))
}, startTimeoutMs)

afterAll(async () => {
  if (namespaces.length > 0) await kubectl(["delete", "namespace", "--wait=false", "--ignore-not-found", ...namespaces]).catch(() => "")
  for (const n of startedAgents) {
    Nodes.resume(lk, n)
    Nodes.shutdown(lk, n)
    await kubectl(["delete", "node", Layout.nodeName(n), "--ignore-not-found", "--wait=false"]).catch(() => "")
  }
}, 120_000)

describe("node agents", () => {
  test("nodes carry labels, addresses, podCIDR, capacity and a renewed Lease", async () => {
    const node = await json<{
      metadata: { labels: Record<string, string> }
      spec: { podCIDR: string }
      status: { addresses: Array<{ type: string; address: string }>; allocatable: Record<string, string>; daemonEndpoints: { kubeletEndpoint: { Port: number } } }
    }>(["get", "node", Layout.nodeName(2)])
    expect(node.metadata.labels["kubernetes.io/hostname"]).toBe(Layout.nodeName(2))
    expect(node.metadata.labels["topology.kubernetes.io/zone"]).toBe(Layout.nodeZone(2))
    expect(node.spec.podCIDR).toBe(Layout.nodePodCidr(2))
    expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: Layout.nodeAddress(2) })
    expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBe(Layout.ports.kubelet)
    expect(node.status.allocatable["pods"]).toBe("110")
    const lease = async () => (await json<{ spec: { renewTime: string } }>(["get", "lease", "-n", "kube-node-lease", Layout.nodeName(2)])).spec.renewTime
    const first = await lease()
    await eventually("lease renewed", async () => ((await lease()) !== first ? true : undefined), 10_000)
  }, 30_000)

  test("a Deployment of two pods becomes Available; its Service answers by ClusterIP and DNS name from another pod", async () => {
    const ns = await namespace("svc")
    await apply(ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: "web",
                image: "tusk.dev/client:latest",
                command: ["bash", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec python3 -m http.server 8080 -d /tmp/www"],
                ports: [{ containerPort: 8080, name: "http" }],
                readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    })
    await apply(ns, { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } })
    await eventually("Deployment Available", async () => {
      const d = await json<{ status: { conditions?: Array<{ type: string; status: string }>; availableReplicas?: number } }>(["get", "deployment", "web", "-n", ns])
      return d.status.availableReplicas === 2 && d.status.conditions?.some((c) => c.type === "Available" && c.status === "True") ? true : undefined
    })
    const webPods = await pods(ns, "app=web")
    expect(new Set(webPods.map((p) => p.status.podIP)).size).toBe(2)
    for (const p of webPods) expect(p.status.podIP?.startsWith("10.244.")).toBe(true)
    const svc = await json<{ spec: { clusterIP: string } }>(["get", "service", "web", "-n", ns])
    await apply(
      ns,
      clientPod(
        "probe",
        // kube-proxy programs the Service a moment after its endpoints turn ready.
        [
          `for i in $(seq 40); do curl -sf --max-time 1 -o /dev/null http://${svc.spec.clusterIP}/ && break; sleep 0.25; done`,
          "set -e",
          `echo "dns $(curl -sf --max-time 2 http://web.${ns}.svc.cluster.local/)"`,
          `echo "short $(curl -sf --max-time 2 http://web/)"`,
          `for i in $(seq 40); do echo "ip $(curl -sf --max-time 2 http://${svc.spec.clusterIP}/)"; sleep 0.1; done`,
        ].join("\n"),
      ),
    )
    await waitPhase(ns, "probe", "Succeeded")
    const answers = (await podLog(ns, "probe")).trim().split("\n").map((l) => l.split(" "))
    const names = new Set(webPods.map((p) => p.metadata.name))
    expect(answers.length).toBe(42)
    for (const [how, who] of answers) {
      expect(["dns", "short", "ip"].includes(how ?? "")).toBe(true)
      expect(names.has(who ?? "")).toBe(true)
    }
    // The ClusterIP balances over both backends.
    expect(new Set(answers.filter(([how]) => how === "ip").map(([, who]) => who))).toEqual(names)
  }, 120_000)

  test("a Job runs to completion and its pod shows Completed; a failing Job retries with back-off", async () => {
    const ns = await namespace("job")
    const job = (name: string, script: string, backoffLimit: number) => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name },
      spec: {
        backoffLimit,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "tusk.dev/client", command: ["bash", "-c", script] }] } },
      },
    })
    await apply(ns, job("ok", "echo done; psql --version", 0))
    await apply(ns, job("bad", "echo failing >&2; exit 3", 2))
    await eventually("Job ok complete", async () => {
      const j = await json<{ status: { succeeded?: number } }>(["get", "job", "ok", "-n", ns])
      return j.status.succeeded === 1 ? true : undefined
    })
    const [okPod] = await pods(ns, "job-name=ok")
    expect(okPod?.status.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" })
    expect(await kubectl(["get", "pods", "-n", ns, "-l", "job-name=ok", "--no-headers"])).toContain("Completed")
    expect(await podLog(ns, okPod?.metadata.name ?? "")).toContain("psql (PostgreSQL) 15")

    await eventually("Job bad failed", async () => {
      const j = await json<{ status: { failed?: number; conditions?: Array<{ type: string; status: string; reason?: string }> } }>(["get", "job", "bad", "-n", ns])
      return j.status.conditions?.some((c) => c.type === "Failed" && c.status === "True") ? j : undefined
    }, 90_000)
    const badPods = (await pods(ns, "job-name=bad")).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp))
    expect(badPods.length).toBe(3)
    for (const p of badPods) {
      expect(p.status.phase).toBe("Failed")
      expect(p.status.containerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 3, reason: "Error" })
    }
    // Retries are spaced by the Job controller's back-off (10 s, then 20 s).
    const times = badPods.map((p) => Date.parse(p.metadata.creationTimestamp))
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBeGreaterThan((times[1] ?? 0) - (times[0] ?? 0))
  }, 120_000)

  test("PVC data survives pod deletion; deleting the PVC removes the data", async () => {
    const ns = await namespace("pvc")
    await apply(ns, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    })
    const withData = (name: string, script: string) =>
      clientPod(name, script, { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }], securityContext: { runAsUser: 26, runAsGroup: 26, fsGroup: 26 } }, {
        volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }],
      })
    await apply(ns, withData("writer", "echo kept > /var/lib/postgresql/data/file && id -u"))
    const writer = await waitPhase(ns, "writer", "Succeeded")
    await kubectl(["delete", "pod", "writer", "-n", ns])
    await apply(ns, withData("reader", "cat /var/lib/postgresql/data/file"))
    const reader = await waitPhase(ns, "reader", "Succeeded")
    expect(reader.spec.nodeName).toBe(writer.spec.nodeName)
    expect((await podLog(ns, "reader")).trim()).toBe("kept")
    const pvc = await json<{ spec: { volumeName: string; storageClassName: string } }>(["get", "pvc", "data", "-n", ns])
    expect(pvc.spec.storageClassName).toBe("local")
    const pv = await json<{ spec: { local: { path: string }; capacity: { storage: string } } }>(["get", "pv", pvc.spec.volumeName])
    expect(pv.spec.capacity.storage).toBe("1Gi")
    expect(pv.spec.local.path.startsWith(volumesDir(lk.paths.root, writer.spec.nodeName ?? ""))).toBe(true)
    expect(existsSync(join(pv.spec.local.path, "file"))).toBe(true)
    await kubectl(["delete", "pod", "reader", "-n", ns])
    await kubectl(["delete", "pvc", "data", "-n", ns])
    await eventually("PV deleted", async () => ((await kubectl(["get", "pv", pvc.spec.volumeName, "--ignore-not-found", "-o", "name"])).trim() === "" ? true : undefined))
    expect(existsSync(pv.spec.local.path)).toBe(false)
  }, 120_000)

  test("readiness failures leave the EndpointSlice within seconds; liveness failures restart the container", async () => {
    const ns = await namespace("probe")
    await apply(
      ns,
      clientPod(
        "flappy",
        "touch /tmp/ready; exec python3 -m http.server 8080 -d /tmp",
        {},
        {
          ports: [{ containerPort: 8080 }],
          readinessProbe: { exec: { command: ["test", "-e", "/tmp/ready"] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ),
    )
    await apply(ns, { apiVersion: "v1", kind: "Service", metadata: { name: "flappy" }, spec: { selector: { app: "flappy" }, ports: [{ port: 80, targetPort: 8080 }] } })
    const endpointReady = async () => {
      const slices = await json<{ items: Array<{ endpoints?: Array<{ conditions: { ready?: boolean } }> }> }>(["get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=flappy"])
      return slices.items.flatMap((s) => s.endpoints ?? []).some((e) => e.conditions.ready === true)
    }
    await eventually("endpoint ready", async () => ((await endpointReady()) ? true : undefined))
    const pod = await json<PodJson>(["get", "pod", "flappy", "-n", ns])
    const holder = Sandbox.findHolders(nodeDir(lk.paths.root, pod.spec.nodeName ?? "")).entries()
    const pid = [...holder].find(([dir]) => dir.includes(`_flappy_${pod.metadata.uid}`))?.[1]
    expect(pid).toBeDefined()
    // Make the readiness probe fail from inside the pod.
    Bun.spawnSync([...Sandbox.enterPod(pid ?? 0), "rm", "/tmp/ready"])
    const t0 = Date.now()
    await eventually("endpoint not ready", async () => ((await endpointReady()) ? undefined : true), 10_000)
    const removedMs = Date.now() - t0
    expect(removedMs).toBeLessThan(5_000)

    await apply(
      ns,
      {
        ...clientPod("lively", "exec sleep 1000", { restartPolicy: "Always" }, {
          livenessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1, failureThreshold: 2 },
        }),
      },
    )
    const restarted = await eventually("liveness restart", async () => {
      const p = await json<PodJson>(["get", "pod", "lively", "-n", ns])
      const s = p.status.containerStatuses?.[0]
      return s !== undefined && s.restartCount >= 1 ? s : undefined
    }, 30_000)
    expect(restarted.lastState.terminated?.exitCode).toBe(143)
    // The previous container's log stays readable.
    await kubectl(["logs", "-n", ns, "lively", "--previous"])
  }, 90_000)

  test("kubectl drain is held by a PDB; uncordon lets a Pending pod with a node-bound volume start", async () => {
    const ns = await namespace("drain")
    await apply(ns, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "pinned" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    })
    const pinned = clientPod("pinned", "exec sleep 1000", {
      volumes: [{ name: "d", persistentVolumeClaim: { claimName: "pinned" } }],
    }, { volumeMounts: [{ name: "d", mountPath: "/data" }] })
    await apply(ns, pinned)
    const running = await waitPhase(ns, "pinned", "Running")
    const node = running.spec.nodeName ?? ""
    await apply(ns, { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "pinned" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "pinned" } } } })
    await eventually("PDB observed", async () => {
      const pdb = await json<{ status: { currentHealthy?: number; disruptionsAllowed?: number } }>(["get", "pdb", "pinned", "-n", ns])
      return pdb.status.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0 ? true : undefined
    })
    const drain = await Effect.runPromise(
      lk.exec(["kubectl", "drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=6s", `--pod-selector=app=pinned`]),
    )
    expect(drain.exitCode).not.toBe(0)
    expect(drain.stdout + drain.stderr).toContain("disruption budget")
    expect((await json<PodJson>(["get", "pod", "pinned", "-n", ns])).metadata.deletionTimestamp).toBeUndefined()
    // The node stays cordoned: the pod, once deleted, cannot come back anywhere else.
    await kubectl(["delete", "pdb", "pinned", "-n", ns])
    await kubectl(["delete", "pod", "pinned", "-n", ns, "--wait=true"])
    await apply(ns, pinned)
    await Bun.sleep(3000)
    expect((await json<PodJson>(["get", "pod", "pinned", "-n", ns])).status.phase).toBe("Pending")
    await kubectl(["uncordon", node])
    const again = await waitPhase(ns, "pinned", "Running")
    expect(again.spec.nodeName).toBe(node)
  }, 120_000)

  test("a stopped node goes NotReady and its pods are evicted after the toleration; it comes back", async () => {
    const ns = await namespace("down")
    const n = 3
    const name = Layout.nodeName(n)
    await apply(ns, clientPod("victim", "exec sleep 1000", { nodeName: name, restartPolicy: "Always" }))
    await waitPhase(ns, "victim", "Running")
    const t0 = Date.now()
    Nodes.stop(lk, n, "freeze")
    try {
      await eventually("node NotReady", async () => {
        const node = await json<{ status: { conditions: Array<{ type: string; status: string }> } }>(["get", "node", name])
        return node.status.conditions.some((c) => c.type === "Ready" && c.status !== "True") ? true : undefined
      }, 40_000)
      const notReadyMs = Date.now() - t0
      await eventually("pod evicted", async () => {
        const p = await json<PodJson>(["get", "pod", "victim", "-n", ns])
        return p.metadata.deletionTimestamp !== undefined ? true : undefined
      }, 60_000)
      const evictedMs = Date.now() - t0
      console.log(`node stop: NotReady after ${notReadyMs} ms, pod evicted after ${evictedMs} ms`)
    } finally {
      Nodes.resume(lk, n)
    }
    // Back on, the agent finishes the deletion and the node is Ready again.
    await eventually("evicted pod gone", async () =>
      (await kubectl(["get", "pod", "victim", "-n", ns, "--ignore-not-found", "-o", "name"])).trim() === "" ? true : undefined,
    )
    await eventually("node Ready", async () => {
      const node = await json<{ status: { conditions: Array<{ type: string; status: string }> } }>(["get", "node", name])
      return node.status.conditions.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined
    }, 40_000)
  }, 150_000)

  test("volumes (secret, configMap items, downwardAPI, emptyDir Memory, projected token) with fsGroup; init containers in order; env from refs", async () => {
    const ns = await namespace("vol")
    await kubectl(["create", "secret", "generic", "creds", "-n", ns, "--from-literal=password=s3cret", "--from-literal=user=app"])
    await kubectl(["create", "configmap", "conf", "-n", ns, "--from-literal=a.conf=alpha", "--from-literal=b.conf=beta"])
    await apply(ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "vols", labels: { tier: "db" } },
      spec: {
        restartPolicy: "Never",
        securityContext: { runAsUser: 26, runAsGroup: 26, fsGroup: 26 },
        volumes: [
          { name: "s", secret: { secretName: "creds", defaultMode: 0o440 } },
          { name: "c", configMap: { name: "conf", items: [{ key: "a.conf", path: "sub/a.conf" }] } },
          { name: "d", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels['tier']" } }] } },
          { name: "m", emptyDir: { medium: "Memory" } },
          { name: "shared", emptyDir: {} },
        ],
        initContainers: [
          { name: "first", image: "tusk.dev/client", command: ["bash", "-c", "echo first >> /shared/order"], volumeMounts: [{ name: "shared", mountPath: "/shared" }] },
          { name: "second", image: "tusk.dev/client", command: ["bash", "-c", "echo second >> /shared/order"], volumeMounts: [{ name: "shared", mountPath: "/shared" }] },
        ],
        containers: [
          {
            name: "main",
            image: "postgres:15",
            command: ["bash", "-c", [
              "cat /etc/creds/password; echo",
              "stat -c '%a %g' /etc/creds/password",
              "cat /etc/conf/sub/a.conf; echo",
              "test ! -e /etc/conf/b.conf && echo no-b",
              "cat /etc/podinfo/labels; echo",
              "stat -f -c %T /scratch",
              "touch /scratch/x && echo scratch-writable",
              "cat /shared/order",
              "test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo token",
              "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo",
              "echo $PASSWORD $NODE $LIMIT",
              "which postgres",
              "id -u; id -G",
            ].join("; ")],
            env: [
              { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
            ],
            resources: { limits: { memory: "128Mi" } },
            volumeMounts: [
              { name: "s", mountPath: "/etc/creds", readOnly: true },
              { name: "c", mountPath: "/etc/conf" },
              { name: "d", mountPath: "/etc/podinfo" },
              { name: "m", mountPath: "/scratch" },
              { name: "shared", mountPath: "/shared" },
            ],
          },
        ],
      },
    })
    const done = await waitPhase(ns, "vols", "Succeeded")
    const lines = (await podLog(ns, "vols")).trim().split("\n")
    expect(lines).toEqual([
      "s3cret",
      "440 26",
      "alpha",
      "no-b",
      "db",
      "tmpfs",
      "scratch-writable",
      "first",
      "second",
      "token",
      ns,
      `s3cret ${done.spec.nodeName} 128`,
      "/usr/lib/postgresql/15/bin/postgres",
      "26",
      "26",
    ])
    // Nothing of it is visible on the host.
    expect(existsSync("/etc/creds")).toBe(false)
    expect(existsSync("/scratch")).toBe(false)
  }, 60_000)

  test("an unknown image fails like a pull error: ErrImagePull, then ImagePullBackOff", async () => {
    const ns = await namespace("img")
    await apply(ns, { apiVersion: "v1", kind: "Pod", metadata: { name: "nope" }, spec: { containers: [{ name: "c", image: "example.com/no-such-image:1" }] } })
    // Watch every status change for a while: the reasons alternate as the back-off runs.
    const watched = await Effect.runPromise(
      lk.exec([
        "timeout", "16", "kubectl", "get", "pod", "nope", "-n", ns, "--watch",
        "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}{\"\\n\"}",
      ]),
    )
    const reasons = new Set(watched.stdout.split("\n").filter((l) => l !== ""))
    expect(reasons.has("ErrImagePull")).toBe(true)
    expect(reasons.has("ImagePullBackOff")).toBe(true)
    expect((await json<PodJson>(["get", "pod", "nope", "-n", ns])).status.phase).toBe("Pending")
  }, 30_000)

  test("kubectl logs -f follows, -l selects; a crashed container restarts and --previous shows its output", async () => {
    const ns = await namespace("logs")
    await apply(ns, clientPod("talker", "echo start-$(date +%s%N); for i in $(seq 1000); do echo line-$i; sleep 0.1; done", { restartPolicy: "Always" }))
    await waitPhase(ns, "talker", "Running")
    const follow = await Effect.runPromise(lk.exec(["timeout", "2", "kubectl", "logs", "-f", "-n", ns, "talker"]))
    const followed = follow.stdout.trim().split("\n")
    expect(followed.length).toBeGreaterThan(5)
    expect(followed.at(-1)).toMatch(/^line-\d+$/)
    expect(await kubectl(["logs", "-n", ns, "-l", "app=talker", "--tail=1"])).toMatch(/^line-\d+\n$/)
    const pod = await json<PodJson>(["get", "pod", "talker", "-n", ns])
    const node = Number(pod.spec.nodeName?.split("-").at(-1))
    const firstStart = (await podLog(ns, "talker")).split("\n")[0]
    expect(Nodes.crashContainer(lk, node, ns, "talker", "main")).toBe(true)
    const s = await eventually("restarted", async () => {
      const p = await json<PodJson>(["get", "pod", "talker", "-n", ns])
      const c = p.status.containerStatuses?.[0]
      return c !== undefined && c.restartCount === 1 && c.state.running !== undefined ? c : undefined
    }, 20_000)
    expect(s.lastState.terminated?.exitCode).toBe(137)
    expect((await podLog(ns, "talker", ["--previous"])).split("\n")[0]).toBe(firstStart)
    await eventually("new log", async () => ((await podLog(ns, "talker")).split("\n")[0] !== firstStart ? true : undefined), 10_000)
  }, 60_000)

  test("a partitioned pod is unreachable until healed; a restarted agent recreates its pods", async () => {
    const ns = await namespace("part")
    await apply(ns, clientPod("server", "exec python3 -m http.server 8080", { restartPolicy: "Always", nodeName: Layout.nodeName(2) }))
    const server = await waitPhase(ns, "server", "Running")
    const url = `http://${server.status.podIP}:8080/`
    const reachable = async () => (await Effect.runPromise(lk.exec(["curl", "-s", "-o", "/dev/null", "--max-time", "1", url]))).exitCode === 0
    await eventually("server answers", async () => ((await reachable()) ? true : undefined), 10_000)
    expect(await Effect.runPromise(Nodes.partitionPod(lk, 2, ns, "server", true))).toBe(true)
    expect(await reachable()).toBe(false)
    await Effect.runPromise(Nodes.partitionPod(lk, 2, ns, "server", false))
    await eventually("server answers again", async () => ((await reachable()) ? true : undefined), 10_000)

    const before = await json<PodJson>(["get", "pod", "server", "-n", ns])
    await Effect.runPromise(Nodes.restartAgent(lk, 2, { backoffInitialMs: 1000, backoffMaxMs: 10_000 }))
    const after = await eventually("pod running again after agent restart", async () => {
      const p = await json<PodJson>(["get", "pod", "server", "-n", ns])
      const c = p.status.containerStatuses?.[0]
      return c !== undefined && c.restartCount > (before.status.containerStatuses?.[0]?.restartCount ?? 0) && ready(p) ? p : undefined
    }, 30_000)
    expect(after.metadata.uid).toBe(before.metadata.uid)
    await eventually("server answers after agent restart", async () => {
      const p = await json<PodJson>(["get", "pod", "server", "-n", ns])
      const r = await Effect.runPromise(lk.exec(["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${p.status.podIP}:8080/`]))
      return r.exitCode === 0 ? true : undefined
    }, 10_000)
    // Exactly one sandbox for the pod: the old one was cleaned up, not leaked.
    const holders = [...Sandbox.findHolders(nodeDir(lk.paths.root, Layout.nodeName(2))).keys()].filter((d) => d.includes(`/${ns}_server_`))
    expect(holders.length).toBe(1)
  }, 90_000)

  test("pod start latency (created -> Ready), and nothing left behind after the pods go", async () => {
    const ns = await namespace("lat")
    const count = 9
    const latencies: Array<number> = []
    // One at a time, measured by the client: apply returns once the pod exists; poll until Ready.
    for (let i = 0; i < count; i++) {
      const t0 = Date.now()
      await apply(ns, clientPod(`p${i}`, "exec sleep 1000", { terminationGracePeriodSeconds: 1 }))
      await eventually(`p${i} Ready`, async () => (ready(await json<PodJson>(["get", "pod", `p${i}`, "-n", ns])) ? true : undefined))
      latencies.push(Date.now() - t0)
    }
    latencies.sort((a, b) => a - b)
    console.log(`pod start latency (kubectl apply -> Ready seen by polling): min ${latencies[0]} ms, median ${latencies[Math.floor(count / 2)]} ms, max ${latencies[count - 1]} ms`)
    expect(latencies[Math.floor(count / 2)]).toBeLessThan(10_000)
    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=true"])
    for (let n = 1; n <= nodeCount; n++) {
      const dir = nodeDir(lk.paths.root, Layout.nodeName(n))
      const left = [...Sandbox.findHolders(dir).keys()].filter((d) => d.includes(`/${ns}_`))
      expect(left).toEqual([])
      const podDirs = existsSync(join(dir, "pods")) ? readdirSync(join(dir, "pods")).filter((d) => d.startsWith(`${ns}_`)) : []
      expect(podDirs).toEqual([])
    }
  }, 120_000)
})
