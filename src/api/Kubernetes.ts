/**
 * The small part of the core Kubernetes API that Tusk's own kinds embed. Objects that
 * Tusk passes through to pods untouched (affinity terms, tolerations, env sources, PVC
 * templates) stay opaque here: the API server validates them where they land.
 */
import { Schema } from "effect"
import { IntOrStringId, PreserveUnknownFieldsId } from "./Annotations.ts"

/** An object Tusk copies without looking inside. */
export const Opaque = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  [PreserveUnknownFieldsId]: true,
})
export type Opaque = typeof Opaque.Type

/** Resource quantity as Kubernetes writes it ("3Gi", "500m", "1"). */
const quantityPattern =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/

/** A quantity given as a string, e.g. `storage.size: 3Gi`. */
export const QuantityString = Schema.String.pipe(
  Schema.pattern(quantityPattern, {
    message: () => "must be a Kubernetes quantity such as 1Gi, 500Mi or 2",
  }),
)

/** A quantity given as a string or an integer, as in `resources.requests.cpu`. */
export const Quantity = Schema.Union(Schema.Int, QuantityString).annotations({ [IntOrStringId]: true })

/** `resources` of a container. */
export const ResourceRequirements = Schema.Struct({
  limits: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Quantity }), { exact: true }),
  requests: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Quantity }), { exact: true }),
})
export type ResourceRequirements = typeof ResourceRequirements.Type

/** A reference to an object in the same namespace. */
export const LocalObjectReference = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1)),
})
export type LocalObjectReference = typeof LocalObjectReference.Type

/** A key of a Secret or ConfigMap in the same namespace. */
export const KeySelector = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1)),
  key: Schema.String.pipe(Schema.minLength(1)),
})
export type KeySelector = typeof KeySelector.Type

/** A container environment variable; `valueFrom` is passed through to the pod. */
export const EnvVar = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1)),
  value: Schema.optionalWith(Schema.String, { exact: true }),
  valueFrom: Schema.optionalWith(Opaque, { exact: true }),
})
export type EnvVar = typeof EnvVar.Type

/** metav1.Condition */
export const Condition = Schema.Struct({
  type: Schema.String,
  status: Schema.Literal("True", "False", "Unknown"),
  reason: Schema.String,
  message: Schema.String,
  lastTransitionTime: Schema.String,
  observedGeneration: Schema.optionalWith(Schema.Int, { exact: true }),
})
export type Condition = typeof Condition.Type

/** Labels or annotations. */
export const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

/** The metadata fields Tusk reads from its own objects. */
export const ObjectMeta = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optionalWith(Schema.String, { exact: true }),
  uid: Schema.optionalWith(Schema.String, { exact: true }),
  resourceVersion: Schema.optionalWith(Schema.String, { exact: true }),
  generation: Schema.optionalWith(Schema.Int, { exact: true }),
  creationTimestamp: Schema.optionalWith(Schema.String, { exact: true }),
  deletionTimestamp: Schema.optionalWith(Schema.String, { exact: true }),
  labels: Schema.optionalWith(StringMap, { exact: true }),
  annotations: Schema.optionalWith(StringMap, { exact: true }),
  finalizers: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  ownerReferences: Schema.optionalWith(Schema.Array(Opaque), { exact: true }),
  managedFields: Schema.optionalWith(Schema.Array(Opaque), { exact: true }),
})
export type ObjectMeta = typeof ObjectMeta.Type
