/**
 * The role state of one instance, derived from what is observed. A tagged union, so
 * every decision over it is an exhaustive match rather than a tangle of flags.
 */
import { Data } from "effect"
import type { ObservedInstance } from "./Observed.ts"

export type InstanceState = Data.TaggedEnum<{
  /** Its PVC waits for initdb or join, or its pod for being created. */
  Pending: { readonly detail: string }
  Initializing: { readonly job: string }
  Joining: { readonly job: string }
  /** The pod exists and is not ready yet (scheduling, starting, catching up). */
  Starting: { readonly detail: string }
  Primary: {}
  Replica: {}
  /** Its postmaster is stopped on purpose (the fencing annotation). */
  Fenced: {}
  /** It cannot make progress without help: a failed Job, an image that cannot be pulled. */
  Failed: { readonly reason: string }
  /** Its PVC is gone or going: the instance will not come back under this name. */
  Deleting: {}
}>

export const InstanceState = Data.taggedEnum<InstanceState>()

/** Waiting reasons of a container that will not resolve by waiting. */
const stuckReasons = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError"])
const isStuck = (waitingReason: string) => stuckReasons.has(waitingReason.split(":")[0]!)

/** The state of `instance` given the cluster's current primary and fenced instances. */
export const instanceState = (
  instance: ObservedInstance,
  currentPrimary: string | undefined,
  fenced: (name: string) => boolean,
): InstanceState => {
  const { pvc, pod } = instance
  if (pvc === undefined || pvc.deleting) return InstanceState.Deleting()
  if (!pvc.ready) {
    const job = instance.jobs.find((j) => j.state !== "succeeded") ?? instance.jobs[0]
    if (job === undefined) return InstanceState.Pending({ detail: "waiting for a bootstrap job" })
    switch (job.state) {
      case "failed":
        return InstanceState.Failed({ reason: `job ${job.name} failed${job.message ? `: ${job.message}` : ""}` })
      case "running":
        if (job.waitingReason !== undefined && isStuck(job.waitingReason)) {
          return InstanceState.Failed({ reason: `job ${job.name}: ${job.waitingReason}` })
        }
        return job.kind === "initdb" ? InstanceState.Initializing({ job: job.name }) : InstanceState.Joining({ job: job.name })
      case "succeeded":
        return InstanceState.Pending({ detail: `job ${job.name} completed` })
    }
  }
  if (pod === undefined) return InstanceState.Pending({ detail: "waiting for its pod" })
  if (fenced(instance.name)) return InstanceState.Fenced()
  if (pod.waitingReason !== undefined && isStuck(pod.waitingReason)) {
    return InstanceState.Failed({ reason: pod.waitingReason })
  }
  if (!pod.ready || pod.deleting) {
    return InstanceState.Starting({ detail: pod.deleting ? "pod is being deleted" : (pod.waitingReason ?? `pod is ${pod.phase}`) })
  }
  return instance.name === currentPrimary ? InstanceState.Primary() : InstanceState.Replica()
}
