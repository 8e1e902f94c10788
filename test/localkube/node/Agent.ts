/**
 * A node agent: registers its Node, renews its Lease, reports node status, runs the
 * pods bound to it (PodWorker), serves the kubelet log API and provisions local
 * volumes. One process per node, running inside the cluster netns.
 */
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Schedule, Schema, Stream } from "effect"
import * as Layout from "../layout.ts"
import * as Kube from "./Kube.ts"
import { KubeClient, type KubeError } from "./Kube.ts"
import * as KubeletServer from "./KubeletServer.ts"
import * as NodeObject from "./NodeObject.ts"
import { Pod } from "./Objects.ts"
import * as PodWorker from "./PodWorker.ts"
import * as Provisioner from "./Provisioner.ts"
import * as Sandbox from "./Sandbox.ts"

export interface AgentConfig {
  readonly node: number
  readonly stateDir: string
  /** Node identity (system:node:<name>), and an admin identity for the storage provisioner. */
  readonly nodeCredentials: Kube.Credentials
  readonly adminCredentials: Kube.Credentials
  readonly caCert: string
  readonly servingCert: string
  readonly servingKey: string
  readonly operatorBinary: string
  readonly backoffInitialMs: number
  readonly backoffMaxMs: number
}

/** Where a node keeps its pods, and where local PVs of a node live. */
export const nodeDir = (stateDir: string, name: string): string => join(stateDir, "nodes", name)
export const volumesDir = (stateDir: string, name: string): string => join(stateDir, "volumes", name)

/** Kills every pod sandbox left under a node directory (a previous agent's) and forgets them. */
export const cleanupLeftovers = Effect.fn("Agent.cleanupLeftovers")(function* (dir: string) {
  // A sandbox being created right now shows up a moment later: look until it stays quiet.
  for (let quiet = 0; quiet < 3; ) {
    const holders = [...Sandbox.findHolders(dir).keys()]
    quiet = holders.length === 0 ? quiet + 1 : 0
    for (const podDir of holders) yield* Sandbox.destroy(podDir)
    if (quiet > 0) yield* Effect.sleep("100 millis")
  }
  rmSync(join(dir, "pods"), { recursive: true, force: true })
})

const decodePod = Schema.decodeUnknownSync(Pod)

export const run = (config: AgentConfig) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    const id = NodeObject.identity(config.node)
    const dir = nodeDir(config.stateDir, id.name)
    yield* cleanupLeftovers(dir)
    mkdirSync(join(dir, "pods"), { recursive: true })
    const since = new Date().toISOString().replace(/\.\d+Z$/, "Z")

    // Register: create the Node, or take over the existing one.
    const register = kube.request("POST", "/api/v1/nodes", { body: NodeObject.nodeObject(id) }).pipe(
      Effect.catchIf(
        (e: KubeError) => e.status === 409,
        () => kube.request("PATCH", `/api/v1/nodes/${id.name}`, { body: { metadata: { labels: NodeObject.nodeLabels(id) } } }),
      ),
    )
    yield* register.pipe(Effect.retry(Schedule.spaced("1 second").pipe(Schedule.upTo("60 seconds"))))
    const postStatus = kube
      .request("PATCH", `/api/v1/nodes/${id.name}/status`, {
        body: { status: NodeObject.nodeStatus(id, new Date().toISOString().replace(/\.\d+Z$/, "Z"), since) },
        patch: "strategic",
      })
      .pipe(
        // A deleted Node comes back, as a kubelet registers again.
        Effect.catchIf((e: KubeError) => e.status === 404, () => register),
        Effect.catchAll((e) => Effect.logWarning(`node status: ${e.message}`)),
      )
    yield* postStatus
    yield* Effect.forkScoped(Effect.repeat(postStatus, Schedule.spaced("10 seconds")))

    // Lease heartbeat every 2 s (the node controller's grace period is short in tests).
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${id.name}`
    const renew = Effect.gen(function* () {
      const now = NodeObject.microTime(new Date())
      yield* kube.request("PATCH", leasePath, { body: { spec: NodeObject.leaseObject(id, now).spec } }).pipe(
        Effect.catchIf(
          (e: KubeError) => e.status === 404,
          () => kube.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { body: NodeObject.leaseObject(id, now) }),
        ),
      )
    }).pipe(Effect.catchAll((e) => Effect.logWarning(`lease: ${e.message}`)))
    yield* Effect.forkScoped(Effect.repeat(renew, Schedule.spaced("2 seconds")))

    // Pod IPs from the node's /24: .2 to .254.
    const ips = new Map<string, string>()
    const prefix = Layout.nodePodCidr(config.node).split(".").slice(0, 3).join(".")
    // Round robin over .2-.254, so a freed address is not handed out again at once
    // (endpoints of a terminating pod may still name it).
    let cursor = 0
    const allocateIp = (uid: string) => {
      const have = ips.get(uid)
      if (have !== undefined) return have
      const used = new Set(ips.values())
      for (let k = 0; k < 253; k++) {
        const ip = `${prefix}.${2 + ((cursor + k) % 253)}`
        if (!used.has(ip)) {
          cursor = (cursor + k + 1) % 253
          ips.set(uid, ip)
          return ip
        }
      }
      throw new Error(`node ${id.name}: no free pod IP`)
    }
    const node: PodWorker.NodeContext = {
      nodeName: id.name,
      hostIP: id.address,
      nodeDir: dir,
      operatorBinary: config.operatorBinary,
      inCluster: [],
      nodeCpu: id.cpu,
      nodeMemoryBytes: id.memoryBytes,
      backoffInitialMs: config.backoffInitialMs,
      backoffMaxMs: config.backoffMaxMs,
      allocateIp,
      releaseIp: (uid) => ips.delete(uid),
    }

    const workers = new Map<string, PodWorker.PodWorker>()
    const terminating = new Set<string>()

    const terminate = (uid: string, grace: number, deleteObject: boolean) =>
      Effect.gen(function* () {
        const w = workers.get(uid)
        if (w === undefined || terminating.has(uid)) return
        terminating.add(uid)
        yield* w.terminate(grace, deleteObject)
        workers.delete(uid)
        terminating.delete(uid)
      })

    const handle = (raw: unknown) =>
      Effect.gen(function* () {
        const pod = decodePod(raw)
        if (pod.spec.nodeName !== id.name) return
        const uid = pod.metadata.uid
        const w = workers.get(uid)
        if (pod.metadata.deletionTimestamp !== undefined) {
          if (w !== undefined) {
            yield* Effect.forkDaemon(terminate(uid, pod.metadata.deletionGracePeriodSeconds ?? 30, true))
            return
          }
          // Nothing runs for it (never started, or already finished): remove the object.
          yield* kube
            .request("DELETE", `/api/v1/namespaces/${pod.metadata.namespace ?? "default"}/pods/${pod.metadata.name}`, {
              body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0, preconditions: { uid } },
            })
            .pipe(Kube.retryWhileUnavailable, Effect.catchAll(() => Effect.void))
          rmSync(PodWorker.podDir(dir, pod), { recursive: true, force: true })
          return
        }
        if (w !== undefined) return yield* w.update(pod)
        if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return
        workers.set(uid, yield* PodWorker.start(node, pod))
      }).pipe(Effect.catchAllDefect((d) => Effect.logWarning(`pod event: ${String(d)}`)))

    const gone = (uid: string) => Effect.forkDaemon(terminate(uid, 0, false))

    const podEvents = kube.listWatch("/api/v1/pods", `fieldSelector=${encodeURIComponent(`spec.nodeName=${id.name}`)}`)
    yield* Effect.forkScoped(
      Stream.runForEach(podEvents, (e) =>
        Effect.gen(function* () {
          if (e.type === "SYNC") {
            const items = e.object as ReadonlyArray<unknown>
            const seen = new Set<string>()
            for (const raw of items) {
              const uid = decodePod(raw).metadata.uid
              seen.add(uid)
              yield* handle(raw)
            }
            for (const uid of workers.keys()) if (!seen.has(uid)) yield* gone(uid)
          } else if (e.type === "DELETED") {
            const uid = Schema.decodeUnknownOption(Pod)(e.object).pipe((o) => (o._tag === "Some" ? o.value.metadata.uid : undefined))
            if (uid !== undefined) yield* gone(uid)
          } else if (e.type === "ADDED" || e.type === "MODIFIED") {
            yield* handle(e.object)
          }
        }),
      ),
    )

    // Local volumes: the provisioner acts with its own (admin) identity.
    const admin = Kube.layer(config.adminCredentials)
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        yield* Provisioner.ensureStorageClass.pipe(Effect.retry(Schedule.spaced("1 second").pipe(Schedule.upTo("30 seconds"))))
        yield* Provisioner.run(id.name, volumesDir(config.stateDir, id.name))
      }).pipe(
        Effect.catchAll((e) => Effect.logError(`provisioner: ${String(e)}`)),
        Effect.provide(admin),
      ),
    )

    const stopServer = KubeletServer.serve({
      address: id.address,
      podsDir: join(dir, "pods"),
      caCert: config.caCert,
      servingCert: config.servingCert,
      servingKey: config.servingKey,
    })
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        stopServer()
        // Agent shutdown: the node's processes go with it (the pod objects stay).
        yield* Effect.forEach([...workers.values()], (w) => w.terminate(0, false), { concurrency: "unbounded", discard: true })
        yield* cleanupLeftovers(dir)
      }),
    )
    yield* Effect.logInfo(`node ${id.name} ready at ${id.address}`)
    return yield* Effect.never
  }).pipe(Effect.scoped)

export const layer = (config: AgentConfig): Layer.Layer<KubeClient> => Kube.layer(config.nodeCredentials)
