/**
 * Where the instance's Cluster and Secrets come from, and where it reports back. In a pod
 * this is the Kubernetes API (a watch on its own Cluster); in tests a file. The manager is
 * the same code over either.
 */
import { Context, Data, type Effect, type Stream } from "effect"
import type { ClusterView } from "./ClusterView.ts"

export class SpecSourceError extends Data.TaggedError("SpecSourceError")<{
  readonly reason: "NotFound" | "Invalid" | "Unavailable"
  readonly message: string
}> {}

export interface SpecSourceShape {
  /** The Cluster as it is now. */
  readonly cluster: Effect.Effect<ClusterView, SpecSourceError>
  /** The Cluster now and after every change. */
  readonly changes: Stream.Stream<ClusterView, SpecSourceError>
  /** A Secret's data, decoded to text. */
  readonly secret: (name: string) => Effect.Effect<Readonly<Record<string, string>>, SpecSourceError>
  /** A ConfigMap's data. */
  readonly configMap: (name: string) => Effect.Effect<Readonly<Record<string, string>>, SpecSourceError>
  /** The Cluster read right now from its origin (never a cache): the isolation watchdog's confirmation. */
  readonly live: Effect.Effect<ClusterView, SpecSourceError>
  /** Record `status.currentPrimary` (done by the instance that just became primary); returns the updated Cluster. */
  readonly setCurrentPrimary: (instance: string) => Effect.Effect<ClusterView, SpecSourceError>
  /**
   * Record `status.formerPrimaryStopped = instance`, done by a primary once its PostgreSQL has
   * stopped for a hand-over to `successor`, only while the Cluster still shows that hand-over
   * (test-and-set at the origin). False when it no longer does.
   */
  readonly reportStopped: (instance: string, successor: string) => Effect.Effect<boolean, SpecSourceError>
  /** Remove `status.formerPrimaryStopped` if it names `instance` (before it runs as primary again). */
  readonly clearStopped: (instance: string) => Effect.Effect<void, SpecSourceError>
}

export class SpecSource extends Context.Tag("tusk/instance/SpecSource")<SpecSource, SpecSourceShape>() {}
