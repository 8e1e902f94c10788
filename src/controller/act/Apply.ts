/**
 * Writing only what changed: every object the operator applies carries the hash of what
 * it wanted, and an object whose cached copy has the same hash is not written again. In
 * a steady state the operator therefore sends no write at all.
 */
import { Effect, Option } from "effect"
import { annotations } from "../../api/Naming.ts"
import * as KubeClient from "../../kube/KubeClient.ts"
import * as KubeError from "../../kube/KubeError.ts"
import type { Informer } from "../../kube/Informer.ts"
import type * as Resource from "../../kube/Resource.ts"
import type { Kind } from "../Kinds.ts"

/** A desired object as the builders return it. */
export interface Desired {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: { readonly [k: string]: string } }
}

const hashOf = (value: unknown): string => Bun.hash(JSON.stringify(value)).toString(16)

/** Server-side apply of a built object (field manager `tusk`, taking over conflicting fields). */
export const apply = (resource: Kind, desired: Desired) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.apply(
      resource,
      { ...desired, metadata: { ...desired.metadata, name: desired.metadata?.name ?? "" } },
      { namespace: desired.metadata?.namespace, force: true },
    ),
  )

/** Apply `desired` unless the cached object was applied from the same content. */
export const applyIfChanged = (
  resource: Kind,
  cache: Informer<Resource.Unstructured>,
  desired: Desired,
) =>
  Effect.gen(function* () {
    const name = desired.metadata?.name ?? ""
    const namespace = desired.metadata?.namespace
    const hash = hashOf(desired)
    const cached = yield* cache.get(namespace === undefined ? name : `${namespace}/${name}`)
    if (Option.isSome(cached) && cached.value.metadata.annotations?.[annotations.specHash] === hash) return false
    yield* apply(resource, {
      ...desired,
      metadata: { ...desired.metadata, annotations: { ...desired.metadata?.annotations, [annotations.specHash]: hash } },
    })
    return true
  }).pipe(Effect.withSpan("Apply.applyIfChanged"))

/** Create `desired` unless it exists (Secrets holding generated passwords are never overwritten). */
export const createIfAbsent = (resource: Kind, cache: Informer<Resource.Unstructured>, desired: Resource.Unstructured) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const key = `${desired.metadata.namespace}/${desired.metadata.name}`
    if (Option.isSome(yield* cache.get(key))) return false
    return yield* client.create(resource, desired, { namespace: desired.metadata.namespace }).pipe(
      Effect.as(true),
      Effect.catchIf((e: KubeError.KubeError) => e._tag === "AlreadyExists", () => Effect.succeed(false)),
    )
  })
