/**
 * What the reconciler knows about one Cluster when it decides: plain data drawn from the
 * informer caches and from each instance's `/pg/status`. Building it is the only I/O
 * before `plan`; everything here is immutable and serialisable, so plans are tested on
 * literals and on random states.
 */
import type { Cluster } from "../../api/Cluster.ts"
import type { PgStatus } from "../../instance/status/PgStatus.ts"

/** A PVC of an instance. */
export interface ObservedPvc {
  readonly name: string
  /** Bound, Pending, Lost... */
  readonly phase: string
  /** initdb or join filled it. */
  readonly ready: boolean
  readonly deleting: boolean
  /** Node the volume lives on, when the storage is node-bound. */
  readonly nodeName: string | undefined
}

/** A bootstrap Job of an instance. */
export interface ObservedJob {
  readonly name: string
  readonly kind: "initdb" | "join"
  readonly state: "running" | "succeeded" | "failed"
  readonly message: string | undefined
  /** Why its newest pod is waiting (e.g. ImagePullBackOff), if it is. */
  readonly waitingReason: string | undefined
}

/** An instance pod. */
export interface ObservedPod {
  readonly name: string
  readonly phase: string
  readonly ready: boolean
  readonly deleting: boolean
  readonly nodeName: string | undefined
  readonly roleLabel: string | undefined
  /** Why it is not running, e.g. "Unschedulable: 0/3 nodes are available..." or "ImagePullBackOff". */
  readonly waitingReason: string | undefined
  readonly image: string | undefined
  /** Since when the pod is not Ready (its Ready condition's last transition), or being deleted. */
  readonly unreadySince: string | undefined
  readonly createdAt: string | undefined
  /** The pod template hash it was created with (see `podTemplateHash`). */
  readonly specHash: string | undefined
}

/** The answer of an instance's status API, or why there is none. */
export type ObservedStatus =
  | { readonly _tag: "Reported"; readonly status: PgStatus }
  | { readonly _tag: "Unreachable"; readonly error: string }

/** Everything about one serial. */
export interface ObservedInstance {
  readonly serial: number
  readonly name: string
  readonly pvc: ObservedPvc | undefined
  readonly jobs: ReadonlyArray<ObservedJob>
  readonly pod: ObservedPod | undefined
  readonly status: ObservedStatus | undefined
}

/** A node as the plan cares about it. */
export interface ObservedNode {
  readonly name: string
  readonly ready: boolean
  readonly schedulable: boolean
}

export interface Observed {
  readonly cluster: Cluster
  readonly instances: ReadonlyArray<ObservedInstance>
  readonly nodes: ReadonlyMap<string, ObservedNode>
  /** Image used for instances when the Cluster names none. */
  readonly defaultImage: string
  /** The pod template hash pods of this Cluster should have. */
  readonly podHash: string
  readonly now: Date
}
