import { describe, expect, test } from "bun:test"
import { Schema } from "effect"
import * as Progress from "./Progress.ts"

const pod = (name: string, status: Record<string, unknown>): Progress.Pod =>
  Schema.decodeUnknownSync(Progress.Pod)({ metadata: { name, uid: "ignored" }, status })

const running = (name: string, ready: boolean, restartCount = 0) =>
  pod(name, { phase: "Running", containerStatuses: [{ name: "postgres", ready, restartCount, state: { running: {} } }] })

const cluster = (status: Record<string, unknown> | undefined, instances = 3): Progress.Cluster =>
  Schema.decodeUnknownSync(Progress.Cluster)({ metadata: { name: "mycluster" }, spec: { instances, imageName: "x" }, ...(status === undefined ? {} : { status }) })

describe("podSummary", () => {
  test("running, ready and restarts", () => {
    expect(Progress.podSummary(running("mycluster-1", true))).toBe("mycluster-1 Running 1/1")
    expect(Progress.podSummary(running("mycluster-1", false, 2))).toBe("mycluster-1 Running 0/1 (2 restarts)")
  })

  test("a waiting reason wins over the phase, as kubectl shows it", () => {
    const p = pod("mycluster-2", {
      phase: "Running",
      containerStatuses: [{ name: "postgres", ready: false, restartCount: 1, state: { waiting: { reason: "CrashLoopBackOff" } } }],
    })
    expect(Progress.podSummary(p)).toBe("mycluster-2 CrashLoopBackOff 0/1 (1 restart)")
  })

  test("init containers still running show as Init:i/n; finished Jobs show their phase only", () => {
    const init = pod("mycluster-1", {
      phase: "Pending",
      initContainerStatuses: [{ name: "bootstrap-controller", ready: false, restartCount: 0, state: { running: {} } }],
      containerStatuses: [{ name: "postgres", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }],
    })
    expect(Progress.podSummary(init)).toBe("mycluster-1 PodInitializing 0/1")
    const initOnly = pod("mycluster-1", {
      phase: "Pending",
      initContainerStatuses: [
        { name: "a", ready: false, restartCount: 0, state: { terminated: { reason: "Completed", exitCode: 0 } } },
        { name: "b", ready: false, restartCount: 0, state: { running: {} } },
      ],
    })
    expect(Progress.podSummary(initOnly)).toBe("mycluster-1 Init:1/2 0/1")
    expect(Progress.podSummary(pod("mycluster-1-initdb-abcde", { phase: "Succeeded" }))).toBe("mycluster-1-initdb-abcde Succeeded")
    expect(Progress.podSummary(pod("p", {}))).toBe("p Pending 0/1")
  })
})

describe("cluster progress", () => {
  test("the line names phase, ready instances, primary and pods", () => {
    expect(Progress.clusterLine(cluster(undefined), [])).toBe("no phase yet, ready 0/3; pods: none")
    const c = cluster({ phase: "Creating a new replica", readyInstances: 1, currentPrimary: "mycluster-1" })
    expect(Progress.clusterLine(c, [running("mycluster-1", true), pod("mycluster-1-initdb-x", { phase: "Succeeded" })])).toBe(
      'phase "Creating a new replica", ready 1/3, primary mycluster-1; pods: mycluster-1 Running 1/1, 1 completed',
    )
  })

  test("healthy needs the phase and every instance ready", () => {
    expect(Progress.isHealthy(cluster({ phase: Progress.healthyPhase, readyInstances: 3 }))).toBe(true)
    expect(Progress.isHealthy(cluster({ phase: Progress.healthyPhase, readyInstances: 2 }))).toBe(false)
    expect(Progress.isHealthy(cluster({ phase: "Setting up primary", readyInstances: 3 }))).toBe(false)
    expect(Progress.isHealthy(cluster(undefined))).toBe(false)
    expect(Progress.isHealthy(undefined)).toBe(false)
  })

  test("troubled pods: not ready, failed or restarted; finished Jobs and ready pods are fine", () => {
    const pods = [
      running("ok", true),
      running("restarted", true, 1),
      running("unready", false),
      pod("job-done", { phase: "Succeeded" }),
      pod("job-failed", { phase: "Failed" }),
      pod("pending", { phase: "Pending" }),
    ]
    expect(Progress.troubledPods(pods)).toEqual([
      { name: "restarted", previous: true },
      { name: "unready", previous: false },
      { name: "job-failed", previous: false },
      { name: "pending", previous: false },
    ])
    expect(Progress.crashLooping([running("op", false, 4)], 4)).toBe(true)
    expect(Progress.crashLooping([running("op", false, 3)], 4)).toBe(false)
    expect(Progress.crashLooping([running("old", true, 9), running("new", false, 0)], 4)).toBe(false)
  })

  test("a Deployment is rolled out when the current template is available on every replica and nothing older is left", () => {
    const d = (generation: number, status: Record<string, number> | undefined) =>
      Schema.decodeUnknownSync(Progress.Deployment)({ metadata: { generation }, spec: { replicas: 1 }, ...(status === undefined ? {} : { status }) })
    expect(Progress.rolledOut(d(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }))).toBe(true)
    expect(Progress.rolledOut(d(2, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }))).toBe(false)
    // The old pod still serves while the new one starts: not rolled out.
    expect(Progress.rolledOut(d(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }))).toBe(false)
    expect(Progress.rolledOut(d(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }))).toBe(false)
    expect(Progress.rolledOut(d(1, undefined))).toBe(false)
  })

  test("a CRD is established once its condition says so, not while it has no status", () => {
    const crd = (status: unknown) => Schema.decodeUnknownSync(Progress.Crd)(status === undefined ? {} : { status })
    expect(Progress.established(crd(undefined))).toBe(false)
    expect(Progress.established(crd({ conditions: [{ type: "NamesAccepted", status: "True" }] }))).toBe(false)
    expect(Progress.established(crd({ conditions: [{ type: "Established", status: "True" }] }))).toBe(true)
  })

  test("ready nodes", () => {
    const nodes = Schema.decodeUnknownSync(Progress.NodeList)({
      items: [
        { metadata: { name: "lk-node-1" }, status: { conditions: [{ type: "Ready", status: "True" }] } },
        { metadata: { name: "lk-node-2" }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } },
        { metadata: { name: "lk-node-3" } },
      ],
    })
    expect(Progress.readyNodes(nodes)).toEqual(["lk-node-1"])
  })
})

describe("build and connect", () => {
  test("a missing or older binary is rebuilt", () => {
    expect(Progress.needsBuild(undefined, [])).toBe(true)
    expect(Progress.needsBuild(100, [50, 99])).toBe(false)
    expect(Progress.needsBuild(100, [50, 101])).toBe(true)
  })

  test("psql reaches the ClusterIP and names the Service", () => {
    expect(Progress.conninfo("mycluster-rw", "10.96.4.2", "postgres", "postgres")).toBe(
      "host=mycluster-rw hostaddr=10.96.4.2 port=5432 user=postgres dbname=postgres",
    )
  })
})
