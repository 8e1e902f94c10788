/**
 * The life of one pod on a node, as the kubelet runs it: volumes, sandbox, init
 * containers in order, then the containers with restart back-off and probes, status
 * written on every change, and on deletion SIGTERM, the grace period, SIGKILL, sandbox
 * teardown and the final delete with grace 0 and a UID precondition.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Deferred, Effect, Fiber, Option, Queue, Ref, Schedule, Schema } from "effect"
import * as Layout from "../layout.ts"
import * as Container from "./Container.ts"
import { fieldValue, resourceValue, type PodRuntime } from "./Downward.ts"
import * as Events from "./Events.ts"
import { imageAccounts, resolveImage } from "./Images.ts"
import { KubeClient, KubeError, retryWhileUnavailable } from "./Kube.ts"
import type { Container as ContainerSpec, Pod, Probe as ProbeSpec } from "./Objects.ts"
import * as PodStatus from "./PodStatus.ts"
import type { ContainerRecord, PodRecord } from "./PodStatus.ts"
import * as Probe from "./Probe.ts"
import * as Sandbox from "./Sandbox.ts"
import * as Volumes from "./Volumes.ts"
import { getData } from "./Volumes.ts"

/** What a pod worker needs to know about its node. */
export interface NodeContext {
  readonly nodeName: string
  readonly hostIP: string
  /** Directory of this node's state: pods/<ns>_<name>_<uid> live under it. */
  readonly nodeDir: string
  readonly operatorBinary: string
  /** Prefix running a command in the cluster netns (empty: the agent already runs there). */
  readonly inCluster: ReadonlyArray<string>
  readonly nodeCpu: number
  readonly nodeMemoryBytes: number
  /** Container restart back-off: first delay and cap, in ms (the kubelet uses 10 s and 300 s). */
  readonly backoffInitialMs: number
  readonly backoffMaxMs: number
  readonly allocateIp: (uid: string) => string
  readonly releaseIp: (uid: string) => void
}

export interface PodWorker {
  readonly uid: string
  /** The pod's directory (sandbox files, volumes, logs). */
  readonly dir: string
  /** The latest object seen for this pod. */
  readonly update: (pod: Pod) => Effect.Effect<void>
  /** Graceful termination, then removal of the pod object (deletion by the API). */
  readonly terminate: (graceSeconds: number, deleteObject: boolean) => Effect.Effect<void>
  /** Whether the pod has ended (terminal phase reached or terminated). */
  readonly done: Effect.Effect<boolean>
}

/** Directory of a pod under the node's state. */
export const podDir = (nodeDir: string, pod: Pod): string =>
  join(nodeDir, "pods", `${pod.metadata.namespace ?? "default"}_${pod.metadata.name}_${pod.metadata.uid}`)

/** Log file of one container start. */
export const logFile = (dir: string, container: string, restart: number): string => join(dir, "logs", container, `${restart}.log`)

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, "Z")

/** Back-off before restart number n (1-based): none for the first, then doubling up to the cap. */
export const backoffMs = (restarts: number, initialMs: number, maxMs: number): number =>
  restarts <= 1 ? 0 : Math.min(maxMs, initialMs * 2 ** (restarts - 2))

/** Expands $(VAR) references the way the kubelet does; $$ escapes. */
export const expand = (s: string, vars: ReadonlyMap<string, string>): string =>
  s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    name === undefined ? "$" : (vars.get(name) ?? m),
  )

const ns = (pod: Pod) => pod.metadata.namespace ?? "default"

/** The container's environment: image defaults, Kubernetes service variables, envFrom, env. */
const containerEnv = Effect.fn("PodWorker.env")(function* (pod: Pod, c: ContainerSpec, rt: PodRuntime, uid: number, imagePath: string) {
  const vars = new Map<string, string>([
    ["PATH", imagePath],
    ["HOSTNAME", pod.spec.hostname ?? pod.metadata.name],
    ["HOME", uid === 0 ? "/root" : "/"],
    ["KUBERNETES_SERVICE_HOST", Layout.apiServerServiceIp],
    ["KUBERNETES_SERVICE_PORT", "443"],
    ["KUBERNETES_SERVICE_PORT_HTTPS", "443"],
    ["KUBERNETES_PORT", `tcp://${Layout.apiServerServiceIp}:443`],
    ["KUBERNETES_PORT_443_TCP", `tcp://${Layout.apiServerServiceIp}:443`],
    ["KUBERNETES_PORT_443_TCP_PROTO", "tcp"],
    ["KUBERNETES_PORT_443_TCP_PORT", "443"],
    ["KUBERNETES_PORT_443_TCP_ADDR", Layout.apiServerServiceIp],
  ])
  for (const ef of c.envFrom ?? []) {
    const ref = ef.secretRef ?? ef.configMapRef
    if (ref === undefined) continue
    const data = yield* getData(ef.secretRef !== undefined ? "secrets" : "configmaps", ns(pod), ref.name)
    if (data === undefined) {
      if (ref.optional === true) continue
      return yield* Effect.fail(`${ef.secretRef !== undefined ? "secret" : "configmap"} "${ref.name}" not found`)
    }
    for (const [k, v] of data) vars.set(`${ef.prefix ?? ""}${k}`, v.toString("utf8"))
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined || e.valueFrom === undefined) {
      vars.set(e.name, expand(e.value ?? "", vars))
      continue
    }
    const vf = e.valueFrom
    if (vf.fieldRef !== undefined) vars.set(e.name, fieldValue(pod, rt, vf.fieldRef.fieldPath) ?? "")
    else if (vf.resourceFieldRef !== undefined) {
      const target = pod.spec.containers.find((x) => x.name === (vf.resourceFieldRef?.containerName ?? c.name)) ?? c
      vars.set(e.name, resourceValue(target, rt, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor))
    } else {
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef
      if (ref === undefined) continue
      const kind = vf.secretKeyRef !== undefined ? "secrets" : "configmaps"
      const data = yield* getData(kind, ns(pod), ref.name ?? "")
      const value = data?.get(ref.key)
      if (value === undefined) {
        if (ref.optional === true) continue
        return yield* Effect.fail(`couldn't find key ${ref.key} in ${kind === "secrets" ? "Secret" : "ConfigMap"} ${ns(pod)}/${ref.name}`)
      }
      vars.set(e.name, value.toString("utf8"))
    }
  }
  return vars
})

type PreviousStatus = NonNullable<NonNullable<Pod["status"]>["containerStatuses"]>[number]

/**
 * A container's record when its worker starts. A container that already ran (a node
 * agent restarted and cleaned up) counts as restarted, its previous end unknown.
 */
const freshRecord = (c: ContainerSpec, previous: PreviousStatus | undefined): ContainerRecord => {
  const ran = previous?.state?.running !== undefined
  const now = nowIso()
  return {
    name: c.name,
    image: c.image,
    state: { _tag: "Waiting", reason: "ContainerCreating" },
    restartCount: (previous?.restartCount ?? 0) + (ran ? 1 : 0),
    ...(ran ? { lastState: { _tag: "Terminated", exitCode: 137, reason: "ContainerStatusUnknown", startedAt: now, finishedAt: now } as const } : {}),
    ready: false,
    started: false,
  }
}

const Identity = Schema.Struct({ metadata: Schema.Struct({ uid: Schema.String }) })

/** Starts a worker for a pod that is bound to this node and not terminal. */
export const start = Effect.fn("PodWorker.start")(function* (node: NodeContext, initial: Pod) {
  const kube = yield* KubeClient
  const podRef = yield* Ref.make(initial)
  const dir = podDir(node.nodeDir, initial)
  mkdirSync(dir, { recursive: true })
  const uid = initial.metadata.uid
  const previous = new Map(
    [...(initial.status?.containerStatuses ?? []), ...(initial.status?.initContainerStatuses ?? [])].map((s) => [s.name, s]),
  )
  const rec: PodRecord = {
    sandboxReady: false,
    hostIP: node.hostIP,
    startTime: initial.status?.startTime ?? nowIso(),
    init: (initial.spec.initContainers ?? []).map((c) => freshRecord(c, previous.get(c.name))),
    containers: initial.spec.containers.map((c) => freshRecord(c, previous.get(c.name))),
    transitions: new Map(),
  }
  const changed = yield* Queue.sliding<void>(1)
  const notify = Queue.offer(changed, undefined)
  const running = new Map<string, Container.RunningContainer>()
  const stopping = yield* Ref.make(false)
  const finished = yield* Deferred.make<void>()
  let holderPid: number | undefined

  const event = (type: "Normal" | "Warning", reason: string, message: string, container?: string) =>
    Effect.flatMap(Ref.get(podRef), (pod) => Events.record(kube, pod, node.nodeName, type, reason, message, container))

  const rt = (): PodRuntime => ({ podIP: rec.podIP ?? "", hostIP: node.hostIP, nodeCpu: node.nodeCpu, nodeMemoryBytes: node.nodeMemoryBytes })

  // Status writer: one PATCH per burst of changes, never two at once (a stale one
  // arriving late would move a terminated container back to running).
  const writing = yield* Effect.makeSemaphore(1)
  const writeStatus = writing.withPermits(1)(Effect.gen(function* () {
    const pod = yield* Ref.get(podRef)
    const status = PodStatus.build(pod, rec, nowIso())
    yield* kube
      .request("PATCH", `/api/v1/namespaces/${ns(pod)}/pods/${pod.metadata.name}/status`, { body: { status } })
      .pipe(Effect.catchAll((e: KubeError) => Effect.logWarning(`pod status ${pod.metadata.name}: ${e.message}`)))
  }))
  const statusLoop = Effect.forever(Effect.zipRight(Queue.take(changed), writeStatus))

  const uidOf = (c: ContainerSpec, pod: Pod) => c.securityContext?.runAsUser ?? pod.spec.securityContext?.runAsUser
  // Without runAsGroup the image's primary group applies; the stand-in images have gid = uid.
  const gidOf = (c: ContainerSpec, pod: Pod, uid: number) => c.securityContext?.runAsGroup ?? pod.spec.securityContext?.runAsGroup ?? uid

  /** Runs one start of a container until it exits; probes run beside it. */
  const runOnce = (c: ContainerSpec, r: ContainerRecord, isInit: boolean) =>
    Effect.gen(function* () {
      const pod = yield* Ref.get(podRef)
      const image = resolveImage(c.image, node.operatorBinary)
      // An image whose program is not built (dist/tusk) cannot be "pulled" either.
      const absent = image?.binaries.find((b) => !existsSync(b.source))
      if (image === undefined || absent !== undefined) {
        const why = absent === undefined ? "not found" : `${absent.source} does not exist (build it first)`
        r.state = { _tag: "Waiting", reason: "ErrImagePull", message: `failed to pull image "${c.image}": ${why}` }
        yield* notify
        yield* event("Warning", "Failed", `Failed to pull image "${c.image}": ${why}`, c.name)
        yield* Effect.sleep("2 seconds")
        r.state = { _tag: "Waiting", reason: "ImagePullBackOff", message: `Back-off pulling image "${c.image}"` }
        yield* notify
        yield* Effect.sleep("10 seconds")
        return undefined
      }
      const user = uidOf(c, pod) ?? image.defaultUid
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot
      if (nonRoot === true && user === 0) {
        r.state = { _tag: "Waiting", reason: "CreateContainerConfigError", message: "container has runAsNonRoot and image will run as root" }
        yield* notify
        yield* Effect.sleep("2 seconds")
        return undefined
      }
      const envResult = yield* Effect.either(containerEnv(pod, c, rt(), user, image.path))
      if (envResult._tag === "Left") {
        r.state = { _tag: "Waiting", reason: "CreateContainerConfigError", message: String(envResult.left) }
        yield* notify
        yield* Effect.sleep("2 seconds")
        return undefined
      }
      const vars = envResult.right
      const argv = [...(c.command ?? (c.args === undefined ? image.defaultCommand : image.defaultCommand.slice(0, 1))), ...(c.args ?? [])].map((a) =>
        expand(a, vars),
      )
      const fsGroup = pod.spec.securityContext?.fsGroup
      const groups = [...(fsGroup === undefined ? [] : [fsGroup]), ...(pod.spec.securityContext?.supplementalGroups ?? [])]
      const file = logFile(dir, c.name, r.restartCount)
      mkdirSync(join(dir, "logs", c.name), { recursive: true })
      const startedAt = nowIso()
      const proc = yield* Container.start({
        holderPid: holderPid ?? 0,
        argv,
        env: [...vars],
        workingDir: c.workingDir ?? "/",
        uid: user,
        gid: gidOf(c, pod, user),
        groups,
        logFile: file,
      })
      running.set(c.name, proc)
      yield* event("Normal", "Started", `Started container ${c.name}`, c.name)
      writeFileSync(join(dir, "logs", c.name, "pid"), String(proc.pid))
      r.containerID = `localkube://${uid}/${c.name}/${r.restartCount}`
      r.state = { _tag: "Running", startedAt }
      r.started = isInit || c.startupProbe === undefined
      r.ready = !isInit && c.readinessProbe === undefined
      yield* notify
      const target: Probe.ProbeTarget = { podIP: rec.podIP ?? "", holderPid: holderPid ?? 0, container: c, env: [...vars] }
      const probes = isInit ? undefined : yield* Effect.fork(probeLoop(c, r, target, proc))
      const exit = yield* Effect.promise(() => proc.exited)
      if (probes !== undefined) yield* Fiber.interrupt(probes)
      running.delete(c.name)
      r.ready = false
      r.state = {
        _tag: "Terminated",
        exitCode: exit.exitCode,
        reason: PodStatus.terminatedReason(exit.exitCode),
        startedAt,
        finishedAt: nowIso(),
      }
      yield* notify
      return exit.exitCode
    })

  /** Startup, then liveness and readiness probes, as the kubelet schedules them. */
  const probeLoop = (c: ContainerSpec, r: ContainerRecord, target: Probe.ProbeTarget, proc: Container.RunningContainer) =>
    Effect.gen(function* () {
      const run = (p: ProbeSpec, onResult: (ok: boolean) => Effect.Effect<boolean>) =>
        Effect.gen(function* () {
          yield* Effect.sleep(`${p.initialDelaySeconds ?? 0} seconds`)
          let fails = 0
          let oks = 0
          for (;;) {
            const ok = yield* Probe.attempt(p, target)
            if (ok) {
              oks++
              fails = 0
            } else {
              fails++
              oks = 0
            }
            if (!ok) yield* event("Warning", "Unhealthy", `Probe failed for container ${c.name}`, c.name)
            const verdict = ok ? (oks >= (p.successThreshold ?? 1) ? true : undefined) : fails >= (p.failureThreshold ?? 3) ? false : undefined
            if (verdict !== undefined && !(yield* onResult(verdict))) return
            yield* Effect.sleep(`${p.periodSeconds ?? 10} seconds`)
          }
        })
      const killForRestart = Effect.gen(function* () {
        const pod = yield* Ref.get(podRef)
        yield* event("Normal", "Killing", `Container ${c.name} failed a probe, will be restarted`, c.name)
        yield* killContainer(proc, pod.spec.terminationGracePeriodSeconds ?? 30)
      })
      if (c.startupProbe !== undefined) {
        let passed = false
        yield* run(c.startupProbe, (ok) =>
          Effect.gen(function* () {
            if (ok) {
              passed = true
              r.started = true
              yield* notify
              return false
            }
            yield* killForRestart
            return false
          }),
        )
        if (!passed) return
      }
      const liveness = c.livenessProbe
      const readiness = c.readinessProbe
      yield* Effect.all(
        [
          liveness === undefined
            ? Effect.void
            : run(liveness, (ok) => (ok ? Effect.succeed(true) : Effect.as(killForRestart, false))),
          readiness === undefined
            ? Effect.void
            : run(readiness, (ok) =>
                Effect.gen(function* () {
                  if (r.ready !== ok) {
                    r.ready = ok
                    yield* notify
                  }
                  return true
                }),
              ),
        ],
        { concurrency: "unbounded", discard: true },
      )
    })

  const killContainer = (proc: Container.RunningContainer, graceSeconds: number) =>
    Effect.gen(function* () {
      Container.signal(proc, "SIGTERM")
      const done = yield* Effect.promise(() => proc.exited).pipe(Effect.timeout(`${Math.max(0, graceSeconds)} seconds`), Effect.option)
      if (done._tag === "None") {
        Container.signal(proc, "SIGKILL")
        yield* Effect.promise(() => proc.exited)
      }
    })

  /** Supervises one container: starts, restarts per restartPolicy with back-off. */
  const supervise = (c: ContainerSpec, r: ContainerRecord, isInit: boolean) =>
    Effect.gen(function* () {
      const policy = (yield* Ref.get(podRef)).spec.restartPolicy ?? "Always"
      for (;;) {
        if (yield* Ref.get(stopping)) return
        const code = yield* runOnce(c, r, isInit)
        if (yield* Ref.get(stopping)) return
        if (code === undefined) continue
        const restart = isInit ? code !== 0 && policy !== "Never" : policy === "Always" || (policy === "OnFailure" && code !== 0)
        if (!restart) return code
        r.lastState = r.state
        r.restartCount++
        const delay = backoffMs(r.restartCount, node.backoffInitialMs, node.backoffMaxMs)
        if (delay > 0) {
          r.state = { _tag: "Waiting", reason: "CrashLoopBackOff", message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${initial.metadata.name}` }
          yield* notify
          yield* event("Warning", "BackOff", "Back-off restarting failed container", c.name)
          yield* Effect.sleep(`${delay} millis`)
        }
      }
    })

  const prepareAndRun = Effect.gen(function* () {
    yield* notify
    rec.podIP = node.allocateIp(uid)
    const pod0 = yield* Ref.get(podRef)
    const hostname = pod0.spec.hostname ?? pod0.metadata.name
    const fqdn = pod0.spec.subdomain === undefined ? undefined : `${hostname}.${pod0.spec.subdomain}.${ns(pod0)}.svc.${Layout.clusterDomain}`
    writeFileSync(join(dir, "hosts"), `127.0.0.1\tlocalhost\n${rec.podIP}\t${fqdn === undefined ? hostname : `${fqdn}\t${hostname}`}\n`)
    writeFileSync(join(dir, "hostname"), `${hostname}\n`)
    // PostgreSQL images (CloudNativePG's, Debian's postgres) run as the postgres user, uid 26.
    writeFileSync(join(dir, "passwd"), imageAccounts(readFileSync("/etc/passwd", "utf8"), "passwd"))
    writeFileSync(join(dir, "group"), imageAccounts(readFileSync("/etc/group", "utf8"), "group"))
    writeFileSync(
      join(dir, "resolv.conf"),
      `search ${ns(pod0)}.svc.${Layout.clusterDomain} svc.${Layout.clusterDomain} ${Layout.clusterDomain}\nnameserver ${Layout.dnsServiceIp}\noptions ndots:5\n`,
    )
    // Volumes may wait on others (a PVC being bound, a Secret being created): retry as the kubelet does.
    const setup = yield* Volumes.prepare(pod0, rt(), dir, node.operatorBinary, [
      { source: join(dir, "hosts"), target: "/etc/hosts" },
      { source: join(dir, "hostname"), target: "/etc/hostname" },
      { source: join(dir, "resolv.conf"), target: "/etc/resolv.conf" },
      { source: join(dir, "passwd"), target: "/etc/passwd" },
      { source: join(dir, "group"), target: "/etc/group" },
    ]).pipe(
      Effect.tapError((e) =>
        Effect.zipRight(Effect.logInfo(`pod ${pod0.metadata.name}: volumes not ready: ${e.message}`), event("Warning", "FailedMount", e.message)),
      ),
      // Fast at first: right after binding, the Node authorizer may not know the pod yet.
      Effect.retry({
        schedule: Schedule.exponential("100 millis").pipe(Schedule.either(Schedule.spaced("2 seconds"))),
        while: () => Ref.get(stopping).pipe(Effect.map((s) => !s)),
      }),
    )
    // The kubelet retries a failed sandbox; so do we, each attempt cleaning up after itself.
    const podIP = rec.podIP
    const info = yield* Effect.uninterruptible(
      Sandbox.create(dir, { hostname, mounts: setup.mounts, tmpfs: setup.tmpfs }, podIP, node.hostIP, node.inCluster),
    ).pipe(
      Effect.tapError((e) => Effect.logWarning(`pod ${pod0.metadata.name}: ${e.message}`)),
      Effect.retry({ schedule: Schedule.spaced("2 seconds"), while: () => Ref.get(stopping).pipe(Effect.map((s) => !s)) }),
    )
    holderPid = info.holderPid
    rec.sandboxReady = true
    yield* notify
    if (setup.refreshAt !== undefined) {
      const refreshAt = setup.refreshAt
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          let at = refreshAt
          for (;;) {
            yield* Effect.sleep(`${Math.max(1000, at - Date.now())} millis`)
            at = (yield* Volumes.refresh(yield* Ref.get(podRef), rt(), dir).pipe(Effect.orElseSucceed(() => Date.now() + 10_000))) ?? Date.now() + 3_600_000
          }
        }),
      )
    }
    const initSpecs = pod0.spec.initContainers ?? []
    for (const [i, c] of initSpecs.entries()) {
      const r = rec.init[i]
      if (r === undefined) continue
      const code = yield* supervise(c, r, true)
      if (code === undefined || code !== 0) return
    }
    yield* Effect.all(
      pod0.spec.containers.map((c, i) => {
        const r = rec.containers[i]
        return r === undefined ? Effect.void : supervise(c, r, false)
      }),
      { concurrency: "unbounded", discard: true },
    )
  })

  // Also finds a sandbox whose creation was cut short: holders are found by directory.
  const teardown = Effect.gen(function* () {
    yield* Sandbox.destroy(dir)
    holderPid = undefined
    node.releaseIp(uid)
  })

  const main = Effect.gen(function* () {
    yield* Effect.forkScoped(statusLoop)
    yield* prepareAndRun
    // Every container is done: a terminal pod gives its sandbox back (status and logs stay).
    if (!(yield* Ref.get(stopping))) {
      yield* writeStatus
      yield* teardown
      yield* Deferred.succeed(finished, undefined)
    }
  }).pipe(
    Effect.catchAll((e) => Effect.logWarning(`pod ${initial.metadata.name}: ${String(e)}`)),
    Effect.scoped,
  )
  const fiber = yield* Effect.forkDaemon(main)

  const terminate = (graceSeconds: number, deleteObject: boolean) =>
    Effect.gen(function* () {
      yield* Ref.set(stopping, true)
      for (const name of running.keys()) yield* event("Normal", "Killing", `Stopping container ${name}`, name)
      yield* Effect.forEach([...running.values()], (p) => killContainer(p, graceSeconds), { concurrency: "unbounded", discard: true })
      yield* Fiber.interrupt(fiber)
      yield* teardown
      // The pod's files (volumes, logs) go before the object does, as the kubelet's.
      rmSync(dir, { recursive: true, force: true })
      yield* Deferred.succeed(finished, undefined)
      if (!deleteObject) return
      const pod = yield* Ref.get(podRef)
      const path = `/api/v1/namespaces/${ns(pod)}/pods/${pod.metadata.name}`
      // A kube-apiserver that has just started answered 404 for a pod it still held: believe
      // "not found" only once a read agrees, or the pod stays Terminating for good.
      const stillThere = kube.request("GET", path).pipe(
        Effect.flatMap((raw) =>
          Option.exists(Schema.decodeUnknownOption(Identity)(raw), (p) => p.metadata.uid === uid)
            ? Effect.fail(new KubeError({ status: 0, reason: "NotGone", message: `DELETE ${path}: 404, yet the pod is still there` }))
            : Effect.void,
        ),
        Effect.catchIf((e) => e.status === 404, () => Effect.void),
      )
      yield* kube
        .request("DELETE", path, {
          body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0, preconditions: { uid } },
        })
        .pipe(
          Effect.catchIf((e) => e.status === 404, () => stillThere),
          retryWhileUnavailable,
          Effect.catchAll((e: KubeError) => (e.status === 404 || e.status === 409 ? Effect.logInfo(`pod ${pod.metadata.name} already gone: ${e.message}`) : Effect.logWarning(e.message))),
        )
    })

  return {
    uid,
    dir,
    update: (pod: Pod) =>
      Effect.gen(function* () {
        yield* Ref.set(podRef, pod)
        if (!(yield* Ref.get(stopping)) && PodStatus.drifted(pod, rec)) yield* notify
      }),
    terminate,
    done: Deferred.isDone(finished),
  } satisfies PodWorker
})
