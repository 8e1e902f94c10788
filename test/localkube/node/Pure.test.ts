/**
 * Unit tests of the node agent's pure decisions: pod phase and status, back-off,
 * $(VAR) expansion, downward API values, log rendering, holder script, PV shape.
 */
import { describe, expect, test } from "bun:test"
import { fieldValue, parseQuantity, resourceValue } from "./Downward.ts"
import { holderScript, shellQuote } from "./Holder.ts"
import { renderLog } from "./KubeletServer.ts"
import type { Pod } from "./Objects.ts"
import * as PodStatus from "./PodStatus.ts"
import type { ContainerRecord, PodRecord } from "./PodStatus.ts"
import { backoffMs, expand } from "./PodWorker.ts"
import { pvFor } from "./Provisioner.ts"
import { hostVeth } from "./Sandbox.ts"

const pod = (restartPolicy: string, extra: Partial<Pod["spec"]> = {}): Pod => ({
  metadata: { name: "p", namespace: "ns", uid: "u1", labels: { app: "x", b: "2" } },
  spec: { restartPolicy, nodeName: "lk-node-1", containers: [{ name: "c", image: "tusk.dev/client" }], ...extra },
})

const record = (containers: Array<Partial<ContainerRecord>>, init: Array<Partial<ContainerRecord>> = []): PodRecord => {
  const full = (c: Partial<ContainerRecord>, i: number): ContainerRecord => ({
    name: `c${i}`,
    image: "img",
    state: { _tag: "Waiting", reason: "ContainerCreating" },
    restartCount: 0,
    ready: false,
    started: false,
    ...c,
  })
  return {
    sandboxReady: true,
    podIP: "10.244.1.2",
    hostIP: "10.240.0.11",
    startTime: "2026-01-01T00:00:00Z",
    init: init.map(full),
    containers: containers.map(full),
    transitions: new Map(),
  }
}

const running = { _tag: "Running", startedAt: "t" } as const
const exited = (exitCode: number) =>
  ({ _tag: "Terminated", exitCode, reason: PodStatus.terminatedReason(exitCode), startedAt: "t", finishedAt: "t" }) as const

describe("PodStatus.phase", () => {
  test("pending until started, running while a container runs", () => {
    expect(PodStatus.phase("Always", record([{}]))).toBe("Pending")
    expect(PodStatus.phase("Always", record([{ state: running }]))).toBe("Running")
    expect(PodStatus.phase("Always", record([{ state: running }, {}]))).toBe("Pending")
  })
  test("Never: all succeeded is Succeeded, any failure is Failed", () => {
    expect(PodStatus.phase("Never", record([{ state: exited(0) }, { state: exited(0) }]))).toBe("Succeeded")
    expect(PodStatus.phase("Never", record([{ state: exited(0) }, { state: exited(1) }]))).toBe("Failed")
    expect(PodStatus.phase("Never", record([{ state: exited(0) }, { state: running }]))).toBe("Running")
  })
  test("OnFailure keeps a failed container restarting (Running), Always never ends", () => {
    expect(PodStatus.phase("OnFailure", record([{ state: { _tag: "Waiting", reason: "CrashLoopBackOff" }, lastState: exited(1), restartCount: 1 }]))).toBe("Running")
    expect(PodStatus.phase("Always", record([{ state: exited(0) }]))).toBe("Running")
  })
  test("init containers gate the pod; a failed one with Never fails it", () => {
    expect(PodStatus.phase("Always", record([{}], [{ state: running }]))).toBe("Pending")
    expect(PodStatus.phase("Never", record([{}], [{ state: exited(2) }]))).toBe("Failed")
    expect(PodStatus.phase("Always", record([{ state: running }], [{ state: exited(0) }]))).toBe("Running")
  })
})

describe("PodStatus.build", () => {
  test("Ready follows ContainersReady; PodScheduled from the scheduler is kept; transitions are stable", () => {
    const p: Pod = { ...pod("Always"), status: { conditions: [{ type: "PodScheduled", status: "True" }] } }
    const rec = record([{ state: running, ready: true, started: true }])
    const s = PodStatus.build(p, rec, "2026-01-01T00:00:05Z") as {
      phase: string
      podIP: string
      podIPs: Array<{ ip: string }>
      hostIP: string
      conditions: Array<{ type: string; status: string; lastTransitionTime: string }>
      containerStatuses: Array<{ state: object; ready: boolean }>
    }
    expect(s.phase).toBe("Running")
    expect(s.podIPs).toEqual([{ ip: "10.244.1.2" }])
    expect(s.hostIP).toBe("10.240.0.11")
    const byType = Object.fromEntries(s.conditions.map((c) => [c.type, c]))
    expect(byType["PodScheduled"]?.status).toBe("True")
    for (const t of ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"]) expect(byType[t]?.status).toBe("True")
    expect(s.containerStatuses[0]?.state).toEqual({ running: { startedAt: "t" } })
    const again = PodStatus.build(p, rec, "2026-01-01T00:00:09Z") as typeof s
    expect(again.conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("2026-01-01T00:00:05Z")
    rec.containers[0]!.ready = false
    const notReady = PodStatus.build(p, rec, "2026-01-01T00:00:10Z") as typeof s
    expect(notReady.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "False", lastTransitionTime: "2026-01-01T00:00:10Z" })
  })
  test("terminated containers report Completed or Error with the exit code", () => {
    const s = PodStatus.build(pod("Never"), record([{ state: exited(3) }]), "now") as { phase: string; containerStatuses: Array<{ state: object }> }
    expect(s.phase).toBe("Failed")
    expect(s.containerStatuses[0]?.state).toEqual({ terminated: { exitCode: 3, reason: "Error", startedAt: "t", finishedAt: "t" } })
  })
})

describe("PodStatus.drifted", () => {
  test("a Ready condition rewritten by someone else (node lifecycle controller) is drift; our own echo is not", () => {
    const rec = record([{ state: running, ready: true, started: true }])
    const ours = PodStatus.build(pod("Always"), rec, "now") as { conditions: Array<{ type: string; status: string }> }
    expect(PodStatus.drifted({ ...pod("Always"), status: { conditions: ours.conditions } }, rec)).toBe(false)
    const markedNotReady = ours.conditions.map((c) => (c.type === "Ready" ? { ...c, status: "False" } : c))
    expect(PodStatus.drifted({ ...pod("Always"), status: { conditions: markedNotReady } }, rec)).toBe(true)
    // Nothing written yet: not drift (the first write is on its way).
    expect(PodStatus.drifted(pod("Always"), rec)).toBe(false)
  })
})

describe("PodWorker helpers", () => {
  test("back-off: first restart at once, then doubling to the cap", () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, 10_000, 300_000))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 300_000])
  })
  test("$(VAR) expansion as the kubelet does it", () => {
    const vars = new Map([["A", "1"], ["B", "x y"]])
    expect(expand("$(A)-$(B)-$(C)-$$(A)", vars)).toBe("1-x y-$(C)-$(A)")
  })
})

describe("Downward API", () => {
  const rt = { podIP: "10.244.1.2", hostIP: "10.240.0.11", nodeCpu: 4, nodeMemoryBytes: 8 * 2 ** 30 }
  test("field paths", () => {
    const p = pod("Always")
    expect(fieldValue(p, rt, "metadata.name")).toBe("p")
    expect(fieldValue(p, rt, "metadata.labels['app']")).toBe("x")
    expect(fieldValue(p, rt, "metadata.labels")).toBe('app="x"\nb="2"')
    expect(fieldValue(p, rt, "status.podIP")).toBe("10.244.1.2")
    expect(fieldValue(p, rt, "spec.nodeName")).toBe("lk-node-1")
    expect(fieldValue(p, rt, "spec.nope")).toBeUndefined()
  })
  test("quantities and resource fields (rounded up by divisor; node allocatable without limits)", () => {
    expect(parseQuantity("500m")).toBe(0.5)
    expect(parseQuantity("1Gi")).toBe(2 ** 30)
    const c = { name: "c", image: "i", resources: { limits: { cpu: "1500m", memory: "256Mi" } } }
    expect(resourceValue(c, rt, "limits.cpu", undefined)).toBe("2")
    expect(resourceValue(c, rt, "limits.memory", "1Mi")).toBe("256")
    expect(resourceValue(undefined, rt, "limits.cpu", undefined)).toBe("4")
  })
})

describe("KubeletServer.renderLog", () => {
  const content = [
    "2026-01-01T00:00:00.000Z stdout F one",
    "2026-01-01T00:00:01.000Z stderr F two words",
    "2026-01-01T00:00:02.000Z stdout F three",
  ].join("\n") + "\n"
  test("strips the CRI prefix, or keeps the timestamp", () => {
    expect(renderLog(content, { follow: false, previous: false, timestamps: false }, 0)).toBe("one\ntwo words\nthree\n")
    expect(renderLog(content, { follow: false, previous: false, timestamps: true, tailLines: 1 }, 0)).toBe("2026-01-01T00:00:02.000Z three\n")
  })
  test("sinceSeconds and limitBytes", () => {
    const now = Date.parse("2026-01-01T00:00:02.500Z")
    expect(renderLog(content, { follow: false, previous: false, timestamps: false, sinceSeconds: 1 }, now)).toBe("three\n")
    expect(renderLog(content, { follow: false, previous: false, timestamps: false, limitBytes: 6 }, 0)).toBe("one\ntw")
  })
})

describe("Holder script", () => {
  test("quotes every path, binds volumes, and never mounts on the host before the private namespace", () => {
    const script = holderScript({
      rootDir: "/state/pods/a b/root",
      readyFile: "/state/pods/a b/ready",
      hostname: "p",
      tmpfs: [{ dir: "/state/pods/a b/volumes/m", gid: 26 }],
      mounts: [{ source: "/state/v it's", target: "/var/lib/postgresql/data", readOnly: true, file: false }],
    })
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`)
    expect(script).toContain(`R='/state/pods/a b/root'`)
    expect(script).toContain(`mount --bind '/.oldroot/state/v it'"'"'s' "$t"`)
    expect(script).toContain('mount -o remount,bind,ro "$t"')
    expect(script).toContain("chgrp 26 '/state/pods/a b/volumes/m'")
    expect(script.indexOf("pivot_root")).toBeLessThan(script.indexOf("mkpoint \"$t\""))
  })
  test("veth names fit in 15 characters", () => {
    expect(hostVeth("10.244.255.254").length).toBeLessThanOrEqual(15)
    expect(hostVeth("10.244.1.2")).toBe("lkp1x2")
  })
})

describe("Provisioner", () => {
  test("a PV bound to the claim, on the node, with the requested size and reclaim Delete", () => {
    const pv = pvFor(
      { metadata: { name: "data", namespace: "ns", uid: "u9" }, spec: { resources: { requests: { storage: "3Gi" } } } },
      "lk-node-2",
      "/state/volumes/lk-node-2/pvc-u9",
    )
    expect(pv.metadata.name).toBe("pvc-u9")
    expect(pv.spec.capacity.storage).toBe("3Gi")
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe("Delete")
    expect(pv.spec.claimRef).toMatchObject({ namespace: "ns", name: "data", uid: "u9" })
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0]?.matchExpressions[0]?.values).toEqual(["lk-node-2"])
    expect(pv.spec.storageClassName).toBe("local")
  })
})
