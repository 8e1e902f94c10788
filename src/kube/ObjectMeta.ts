/**
 * metav1.ObjectMeta and friends as effect Schemas: the part of every object the runtime
 * reads (keys, versions, labels, owners). Kind schemas embed `ObjectMeta`.
 */
import { Schema } from "effect"

/** metav1.OwnerReference. */
export const OwnerReference = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optional(Schema.Boolean),
  blockOwnerDeletion: Schema.optional(Schema.Boolean),
})
export type OwnerReference = typeof OwnerReference.Type

const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

/** metav1.ObjectMeta, without managedFields (never needed, often large). */
export const ObjectMeta = Schema.Struct({
  name: Schema.optional(Schema.String),
  generateName: Schema.optional(Schema.String),
  namespace: Schema.optional(Schema.String),
  uid: Schema.optional(Schema.String),
  resourceVersion: Schema.optional(Schema.String),
  generation: Schema.optional(Schema.Number),
  creationTimestamp: Schema.optional(Schema.String),
  deletionTimestamp: Schema.optional(Schema.String),
  deletionGracePeriodSeconds: Schema.optional(Schema.Number),
  labels: Schema.optional(StringMap),
  annotations: Schema.optional(StringMap),
  ownerReferences: Schema.optional(Schema.Array(OwnerReference)),
  finalizers: Schema.optional(Schema.Array(Schema.String)),
})
export type ObjectMeta = typeof ObjectMeta.Type

/** What the runtime needs of any object: its metadata. */
export interface KubeObject {
  readonly metadata: {
    readonly name?: string | undefined
    readonly namespace?: string | undefined
    readonly uid?: string | undefined
    readonly resourceVersion?: string | undefined
    readonly generation?: number | undefined
    readonly labels?: { readonly [key: string]: string } | undefined
    readonly ownerReferences?: ReadonlyArray<unknown> | undefined
    readonly deletionTimestamp?: string | undefined
  }
}

/** The cache and queue key of an object: "namespace/name", or "name" when cluster-scoped. */
export const keyOf = (o: KubeObject): string => objectKey(o.metadata.namespace, o.metadata.name ?? "")

/** Build a key from its parts. */
export const objectKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name

/** Split a key back into namespace and name. */
export const parseKey = (key: string): { readonly namespace: string | undefined; readonly name: string } => {
  const slash = key.indexOf("/")
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) }
}

/** metav1.ListMeta. */
export const ListMeta = Schema.Struct({
  resourceVersion: Schema.optional(Schema.String),
  continue: Schema.optional(Schema.String),
  remainingItemCount: Schema.optional(Schema.Number),
})
