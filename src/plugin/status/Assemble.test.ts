import { describe, expect, test } from "bun:test"
import type { Cluster } from "../../api/Cluster.ts"
import type { PgStatus } from "../../instance/status/PgStatus.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import { assemble, fencedList, type Observed, type Probe } from "./Assemble.ts"

const cluster = (annotations: Record<string, string> = {}): Cluster => ({
  apiVersion: "postgresql.tusk.dev/v1",
  kind: "Cluster",
  metadata: { name: "pg", annotations },
  spec: { instances: 3 } as Cluster["spec"],
  status: { currentPrimary: "pg-1", targetPrimary: "pg-1", instanceNames: ["pg-1", "pg-2", "pg-3"], phase: "Cluster in healthy state" },
})

const pod = (name: string, phase: string, extra: Record<string, unknown> = {}): Unstructured => ({
  metadata: { name, labels: { "tusk.dev/cluster": "pg", "tusk.dev/podRole": "instance" } },
  status: { phase, conditions: [{ type: "Ready", status: phase === "Running" ? "True" : "False" }] },
  ...(phase === "Running" ? { spec: { nodeName: "n1" } } : {}),
  ...extra,
})

const pg = (name: string, isPrimary: boolean): Probe => ({
  _tag: "Ok",
  status: {
    instanceName: name,
    role: isPrimary ? "Primary" : "Standby",
    isPrimary,
    fenced: false,
    currentLsn: "0/3000060",
    pendingRestart: false,
    roleDetail: "",
    systemId: "42",
    replication: isPrimary
      ? [{ applicationName: "pg-2", clientAddr: null, state: "streaming", sentLsn: "0/3000060", writeLsn: "0/3000060", flushLsn: "0/3000060", replayLsn: "0/3000000", writeLagSeconds: null, flushLagSeconds: null, replayLagSeconds: 0.5, replayLagBytes: 96, syncState: "async", syncPriority: 0 }]
      : [],
  } as unknown as PgStatus,
})

const observed = (o: Partial<Observed>): Observed => ({
  namespace: "ns",
  cluster: cluster(),
  pods: [],
  pvcs: [],
  nodes: [],
  events: [],
  pdbs: undefined,
  probes: new Map(),
  warnings: [],
  now: new Date("2026-01-01T00:00:00Z"),
  ...o,
})

describe("assemble", () => {
  test("a Pending replica whose volume's node is cordoned says so, with the scheduler's reason", () => {
    const pending = pod("pg-3", "Pending", {
      status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available: 1 node(s) were unschedulable." }] },
    })
    const r = assemble(observed({
      pods: [pod("pg-1", "Running"), pod("pg-2", "Running"), pending],
      pvcs: [{ metadata: { name: "pg-3", annotations: { "volume.kubernetes.io/selected-node": "n3" } } }],
      nodes: [{ metadata: { name: "n3" }, spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }] } }],
    }))
    expect(r.pending).toEqual([{
      name: "pg-3",
      reason: "Unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable.; its volume pg-3 is bound to node n3, which is cordoned (kubectl uncordon n3)",
    }])
  })

  test("a Pending pod with no condition falls back to its last Warning event", () => {
    const r = assemble(observed({
      pods: [pod("pg-1", "Running"), pod("pg-2", "Pending")],
      events: [
        { metadata: { name: "e1" }, type: "Warning", reason: "FailedMount", message: "old", involvedObject: { kind: "Pod", name: "pg-2" }, lastTimestamp: "2026-01-01T00:00:01Z" },
        { metadata: { name: "e2" }, type: "Warning", reason: "FailedMount", message: "volume not ready", involvedObject: { kind: "Pod", name: "pg-2" }, lastTimestamp: "2026-01-01T00:00:02Z" },
        { metadata: { name: "e3" }, type: "Warning", reason: "Other", message: "not ours", involvedObject: { kind: "Pod", name: "pg-1" }, lastTimestamp: "2026-01-01T00:00:03Z" },
      ] as unknown as ReadonlyArray<Unstructured>,
    }))
    expect(r.pending.find((p) => p.name === "pg-2")?.reason).toBe("FailedMount: volume not ready")
    // pg-3 is named by the Cluster but has no pod at all.
    expect(r.pending.find((p) => p.name === "pg-3")?.reason).toContain("no pod")
  })

  test("replication comes from whichever instance runs as primary; the target shows only while it differs", () => {
    const c = cluster()
    const r = assemble(observed({
      cluster: { ...c, status: { ...c.status, targetPrimary: "pg-2" } },
      pods: [pod("pg-1", "Running"), pod("pg-2", "Running")],
      probes: new Map([["pg-1", { _tag: "Failed", reason: "timeout" } as Probe], ["pg-2", pg("pg-2", true)]]),
    }))
    expect(r.summary.targetPrimary).toBe("pg-2")
    expect(r.replication.map((s) => [s.name, s.lagBytes])).toEqual([["pg-2", 96]])
    expect(r.instances.find((i) => i.name === "pg-1")?.unreachable).toBe("timeout")
    expect(assemble(observed({})).summary.targetPrimary).toBeUndefined()
  })

  test("fencing: the annotation's list, and * fences every instance", () => {
    expect(fencedList(" pg-1, pg-2 ,")).toEqual(["pg-1", "pg-2"])
    const r = assemble(observed({ cluster: cluster({ "tusk.dev/fencedInstances": "*" }), pods: [pod("pg-1", "Running"), pod("pg-2", "Running")] }))
    expect(r.summary.fenced).toEqual(["*"])
    expect(r.instances.every((i) => i.fenced)).toBe(true)
  })
})
