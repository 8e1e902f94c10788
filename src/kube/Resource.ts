/**
 * A resource descriptor: where a kind lives in the API (group, version, plural, scope)
 * and the Schema its objects decode with. The client, informers and the controller are
 * generic over it.
 */
import { Schema } from "effect"
import { ObjectMeta, type KubeObject } from "./ObjectMeta.ts"

/** Where a kind lives in the API. */
export interface ResourceInfo {
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly plural: string
  readonly namespaced: boolean
}

/** A kind of the Kubernetes API and the Schema of its objects. */
export interface Resource<A extends KubeObject, I = unknown> extends ResourceInfo {
  readonly schema: Schema.Schema<A, I>
}

/** Describe a kind. */
export const make = <A extends KubeObject, I>(
  def: ResourceInfo,
  schema: Schema.Schema<A, I>,
): Resource<A, I> => ({ ...def, schema })

/** "group/version", or "v1" for the core group. */
export const apiVersion = (r: Pick<ResourceInfo, "group" | "version">): string =>
  r.group === "" ? r.version : `${r.group}/${r.version}`

/** An object decoded down to its metadata; every other field kept as it came. */
export const Unstructured = Schema.Struct(
  { apiVersion: Schema.optional(Schema.String), kind: Schema.optional(Schema.String), metadata: ObjectMeta },
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
)
export type Unstructured = typeof Unstructured.Type

/** Describe a kind whose objects are handled untyped (metadata only). */
export const unstructured = (
  def: ResourceInfo,
): Resource<Unstructured, typeof Unstructured.Encoded> => make(def, Unstructured)

/** Path of a collection or an object, optionally a subresource of it. */
export const path = (
  r: ResourceInfo,
  at: { readonly namespace?: string | undefined; readonly name?: string | undefined; readonly subresource?: string | undefined },
): string => {
  const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`
  const ns = r.namespaced && at.namespace !== undefined ? `/namespaces/${encodeURIComponent(at.namespace)}` : ""
  const name = at.name !== undefined ? `/${encodeURIComponent(at.name)}` : ""
  const sub = at.name !== undefined && at.subresource !== undefined ? `/${at.subresource}` : ""
  return `${base}${ns}/${r.plural}${name}${sub}`
}
