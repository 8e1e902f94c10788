/**
 * The informer cache: objects by key, a label index, and the changes each update makes.
 * No effects; the informer feeds it and publishes what it returns.
 */
import { keyOf, type KubeObject } from "./ObjectMeta.ts"

/** A change to the cache, as informer subscribers see it. */
export type Change<A> =
  | { readonly _tag: "Added"; readonly object: A }
  | { readonly _tag: "Modified"; readonly old: A; readonly object: A }
  | { readonly _tag: "Deleted"; readonly object: A }

/** A cache of objects of one kind, indexed by the label keys given. */
export class Store<A extends KubeObject> {
  private readonly objects = new Map<string, A>()
  private readonly index = new Map<string, Map<string, Set<string>>>()

  constructor(readonly indexedLabels: ReadonlyArray<string> = []) {
    for (const label of indexedLabels) this.index.set(label, new Map())
  }

  /** Number of objects. */
  get size(): number {
    return this.objects.size
  }

  /** The object under a key ("namespace/name"). */
  get(key: string): A | undefined {
    return this.objects.get(key)
  }

  /** All objects. */
  values(): ReadonlyArray<A> {
    return [...this.objects.values()]
  }

  /** Objects whose label `label` equals `value`; the label must be indexed. */
  byLabel(label: string, value: string): ReadonlyArray<A> {
    const byValue = this.index.get(label)
    if (byValue === undefined) throw new Error(`label ${label} is not indexed`)
    const keys = byValue.get(value)
    if (keys === undefined) return []
    const out: Array<A> = []
    for (const k of keys) {
      const o = this.objects.get(k)
      if (o !== undefined) out.push(o)
    }
    return out
  }

  /** Record an object as added or modified (watch ADDED/MODIFIED). */
  upsert(object: A): ReadonlyArray<Change<A>> {
    const key = keyOf(object)
    const old = this.objects.get(key)
    if (old !== undefined && old.metadata.uid !== object.metadata.uid) {
      // Same name, new object: the old one was deleted while we were not looking.
      this.remove(key)
      this.set(key, object)
      return [{ _tag: "Deleted", object: old }, { _tag: "Added", object }]
    }
    if (old !== undefined && old.metadata.resourceVersion === object.metadata.resourceVersion) return []
    this.set(key, object)
    return old === undefined ? [{ _tag: "Added", object }] : [{ _tag: "Modified", old, object }]
  }

  /** Record a deletion (watch DELETED); the final state of the object is what subscribers see. */
  delete(object: A): ReadonlyArray<Change<A>> {
    const key = keyOf(object)
    const old = this.objects.get(key)
    if (old === undefined) return []
    this.remove(key)
    return [{ _tag: "Deleted", object }]
  }

  /** Replace everything with a fresh list, reporting the difference (by UID and resourceVersion). */
  replace(items: ReadonlyArray<A>): ReadonlyArray<Change<A>> {
    const changes: Array<Change<A>> = []
    const seen = new Set<string>()
    for (const item of items) {
      seen.add(keyOf(item))
      changes.push(...this.upsert(item))
    }
    for (const [key, old] of [...this.objects]) {
      if (!seen.has(key)) {
        this.remove(key)
        changes.push({ _tag: "Deleted", object: old })
      }
    }
    return changes
  }

  private set(key: string, object: A) {
    const old = this.objects.get(key)
    if (old !== undefined) this.unindex(key, old)
    this.objects.set(key, object)
    for (const [label, byValue] of this.index) {
      const value = object.metadata.labels?.[label]
      if (value === undefined) continue
      let keys = byValue.get(value)
      if (keys === undefined) byValue.set(value, keys = new Set())
      keys.add(key)
    }
  }

  private remove(key: string) {
    const old = this.objects.get(key)
    if (old === undefined) return
    this.unindex(key, old)
    this.objects.delete(key)
  }

  private unindex(key: string, object: A) {
    for (const [label, byValue] of this.index) {
      const value = object.metadata.labels?.[label]
      if (value === undefined) continue
      const keys = byValue.get(value)
      keys?.delete(key)
      if (keys?.size === 0) byValue.delete(value)
    }
  }
}
