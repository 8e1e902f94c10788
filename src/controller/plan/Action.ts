/**
 * What a plan asks the act layer to do: values, not calls. Each names its object by
 * serial or name; the act layer builds the object from the Cluster with the pure specs.
 */
import { Data } from "effect"
import type { InstanceRole } from "../../api/Naming.ts"

export type Action = Data.TaggedEnum<{
  /** Create the data PVC of a new instance. */
  CreatePvc: { readonly serial: number }
  /** Start initdb (the first instance) or join (a replica) into the instance's PVC. */
  CreateJob: { readonly serial: number; readonly kind: "initdb" | "join" }
  /** Remember that the PVC holds a usable data directory. */
  MarkPvcReady: { readonly serial: number }
  /** Start the instance's pod on its ready PVC, labelled with its role from the start. */
  CreatePod: { readonly serial: number; readonly role: InstanceRole }
  /** Move the role label, which is what the -rw and -ro Services select on. */
  SetRoleLabel: { readonly podName: string; readonly role: InstanceRole }
  /** Ask an instance to restart PostgreSQL in place (its pod and data stay): the Cluster's new restart tokens. */
  RestartInPlace: { readonly instance: string; readonly tokens: Readonly<Record<string, string>> }
  DeletePod: { readonly name: string; readonly reason: string }
  DeleteJob: { readonly name: string; readonly reason: string }
  DeletePvc: { readonly name: string; readonly reason: string }
}>

export const Action = Data.taggedEnum<Action>()
