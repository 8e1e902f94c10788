/**
 * Pod status as the kubelet writes it, from the node agent's view of the pod's
 * containers. Pure: runtime records in, the `status` object out.
 */
import type { Pod } from "./Objects.ts"

export type ContainerState =
  | { readonly _tag: "Waiting"; readonly reason: string; readonly message?: string }
  | { readonly _tag: "Running"; readonly startedAt: string }
  | {
      readonly _tag: "Terminated"
      readonly exitCode: number
      readonly reason: string
      readonly startedAt: string
      readonly finishedAt: string
      readonly signal?: number
    }

export interface ContainerRecord {
  readonly name: string
  readonly image: string
  state: ContainerState
  lastState?: ContainerState
  restartCount: number
  ready: boolean
  started: boolean
  containerID?: string
}

export interface PodRecord {
  sandboxReady: boolean
  podIP?: string
  hostIP: string
  startTime: string
  readonly init: Array<ContainerRecord>
  readonly containers: Array<ContainerRecord>
  /** When each of our condition types last changed status. */
  readonly transitions: Map<string, { status: string; time: string }>
}

/** Exit code -> the reason the kubelet reports for a terminated container. */
export const terminatedReason = (exitCode: number): string => (exitCode === 0 ? "Completed" : "Error")

const stateJson = (s: ContainerState | undefined): object => {
  if (s === undefined) return {}
  switch (s._tag) {
    case "Waiting":
      return { waiting: { reason: s.reason, ...(s.message === undefined ? {} : { message: s.message }) } }
    case "Running":
      return { running: { startedAt: s.startedAt } }
    case "Terminated":
      return {
        terminated: {
          exitCode: s.exitCode,
          reason: s.reason,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          ...(s.signal === undefined ? {} : { signal: s.signal }),
        },
      }
  }
}

const containerJson = (c: ContainerRecord) => ({
  name: c.name,
  image: c.image,
  imageID: "",
  ...(c.containerID === undefined ? {} : { containerID: c.containerID }),
  state: stateJson(c.state),
  lastState: stateJson(c.lastState),
  ready: c.ready,
  started: c.started,
  restartCount: c.restartCount,
})

const terminated = (c: ContainerRecord) => c.state._tag === "Terminated"
const succeeded = (c: ContainerRecord) => c.state._tag === "Terminated" && c.state.exitCode === 0

/** Phase per the kubelet's rules. */
export const phase = (restartPolicy: string, rec: PodRecord): "Pending" | "Running" | "Succeeded" | "Failed" => {
  const initFailed = rec.init.some((c) => c.state._tag === "Terminated" && c.state.exitCode !== 0)
  if (restartPolicy === "Never" && initFailed) return "Failed"
  const initDone = rec.init.every(succeeded)
  if (!initDone) return "Pending"
  const all = rec.containers
  if (restartPolicy !== "Always" && all.length > 0 && all.every(terminated)) {
    if (all.every(succeeded)) return "Succeeded"
    if (restartPolicy === "Never") return "Failed"
  }
  // Running once every container has been started at least once.
  const everStarted = (c: ContainerRecord) => c.state._tag !== "Waiting" || c.lastState !== undefined
  return all.every(everStarted) && all.some((c) => c.state._tag === "Running" || c.restartCount > 0 || terminated(c))
    ? "Running"
    : "Pending"
}

const ourConditions = ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"] as const

/** The conditions this node owns, as it sees them. */
const ownConditions = (pod: Pod, rec: PodRecord): Record<(typeof ourConditions)[number], boolean> => {
  const containersReady = rec.containers.every((c) => c.ready) && phase(pod.spec.restartPolicy ?? "Always", rec) === "Running"
  const gates = (pod.spec.readinessGates ?? []).every((g) =>
    (pod.status?.conditions ?? []).some((c) => c.type === g.conditionType && c.status === "True"),
  )
  return {
    PodReadyToStartContainers: rec.sandboxReady,
    Initialized: rec.init.every(succeeded),
    ContainersReady: containersReady,
    Ready: containersReady && gates,
  }
}

/**
 * Whether the API server's copy of the pod's conditions differs from what this node would
 * write: someone else rewrote them (the node lifecycle controller marks pods not Ready while
 * their node is unreachable), or a write was lost. The kubelet's status manager writes its
 * own again then; so does the agent.
 */
export const drifted = (pod: Pod, rec: PodRecord): boolean => {
  const values = ownConditions(pod, rec)
  return ourConditions.some((type) => {
    const seen = pod.status?.conditions?.find((c) => c.type === type)
    return seen !== undefined && seen.status !== (values[type] ? "True" : "False")
  })
}

/** The status object to write (JSON merge patch replaces its lists whole). */
export const build = (pod: Pod, rec: PodRecord, now: string): Record<string, unknown> => {
  const ph = phase(pod.spec.restartPolicy ?? "Always", rec)
  const values = ownConditions(pod, rec)
  const terminal = ph === "Succeeded" || ph === "Failed"
  const conditions = [
    ...(pod.status?.conditions ?? []).filter((c) => !(ourConditions as ReadonlyArray<string>).includes(c.type)),
    ...ourConditions.map((type) => {
      const status = values[type] ? "True" : "False"
      const prev = rec.transitions.get(type)
      if (prev === undefined || prev.status !== status) rec.transitions.set(type, { status, time: now })
      const reason =
        status === "True"
          ? undefined
          : type === "Initialized"
            ? "ContainersNotInitialized"
            : type === "PodReadyToStartContainers"
              ? undefined
              : terminal
                ? "PodCompleted"
                : "ContainersNotReady"
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: rec.transitions.get(type)?.time ?? now,
        ...(reason === undefined ? {} : { reason }),
      }
    }),
  ]
  return {
    phase: ph,
    conditions,
    hostIP: rec.hostIP,
    hostIPs: [{ ip: rec.hostIP }],
    ...(rec.podIP === undefined ? {} : { podIP: rec.podIP, podIPs: [{ ip: rec.podIP }] }),
    startTime: rec.startTime,
    ...(rec.init.length === 0 ? {} : { initContainerStatuses: rec.init.map(containerJson) }),
    containerStatuses: rec.containers.map(containerJson),
  }
}
