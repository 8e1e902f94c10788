import { describe, expect, test } from "bun:test"
import type { KubeObject } from "../../kube/ObjectMeta.ts"
import { Option } from "effect"
import type { Unstructured } from "../../kube/Resource.ts"
import { nodeSchedulingChanged, podObservation } from "./Views.ts"

const node = (resourceVersion: string, at: string, change: { unschedulable?: boolean; taints?: Array<object>; ready?: string } = {}): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1", resourceVersion },
    spec: { podCIDR: "10.244.1.0/24", ...(change.unschedulable === undefined ? {} : { unschedulable: change.unschedulable }), ...(change.taints === undefined ? {} : { taints: change.taints }) },
    status: {
      conditions: [
        { type: "MemoryPressure", status: "False", lastHeartbeatTime: at, lastTransitionTime: "2026-11-29T10:00:00Z", reason: "KubeletHasSufficientMemory" },
        { type: "Ready", status: change.ready ?? "True", lastHeartbeatTime: at, lastTransitionTime: "2026-11-29T10:00:00Z", reason: "KubeletReady" },
      ],
    },
  }) as KubeObject

const modified = (old: KubeObject, object: KubeObject) => ({ _tag: "Modified" as const, old, object })
const before = node("100", "2026-11-29T12:00:00Z")

describe("nodeSchedulingChanged", () => {
  test("a heartbeat (new times and resourceVersion, same conditions) wakes no cluster", () => {
    expect(nodeSchedulingChanged(modified(before, node("101", "2026-11-29T12:00:10Z")))).toBe(false)
  })

  test("a cordon, an uncordon, a taint, or a change of the Ready status does", () => {
    const cordoned = node("101", "2026-11-29T12:00:10Z", { unschedulable: true })
    expect(nodeSchedulingChanged(modified(before, cordoned))).toBe(true)
    expect(nodeSchedulingChanged(modified(cordoned, node("102", "2026-11-29T12:00:20Z")))).toBe(true)
    const tainted = node("101", "2026-11-29T12:00:10Z", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] })
    expect(nodeSchedulingChanged(modified(before, tainted))).toBe(true)
    expect(nodeSchedulingChanged(modified(before, node("101", "2026-11-29T12:00:10Z", { ready: "Unknown" })))).toBe(true)
  })

  test("nodes that appear or go always pass", () => {
    expect(nodeSchedulingChanged({ _tag: "Added", object: before })).toBe(true)
    expect(nodeSchedulingChanged({ _tag: "Deleted", object: before })).toBe(true)
  })
})

describe("podObservation", () => {
  test("a pod being deleted is unready since the deletion was asked for, not since its grace period ends", () => {
    const pod = {
      metadata: { name: "c-1", deletionTimestamp: "2026-11-29T12:30:00Z", deletionGracePeriodSeconds: 1800 },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    } as unknown as Unstructured
    const observed = Option.getOrThrow(podObservation(pod))
    expect(observed.deleting).toBe(true)
    expect(observed.unreadySince).toBe("2026-11-29T12:00:00.000Z")
  })
})
