/**
 * The manager runs the pipeline: endpoints, informers (on every replica, so a standby is
 * warm), leader election, and the controllers (on the leader only). Readiness waits for
 * synced caches and a settled election.
 */
import { Effect, Option, type Scope } from "effect"
import * as Controller from "./Controller.ts"
import * as Endpoints from "./Endpoints.ts"
import { Health } from "./Health.ts"
import * as LeaderElection from "./LeaderElection.ts"

/** How the manager runs. */
export interface Options {
  readonly endpoints: Endpoints.Options
  /** Undefined: no election, this process always leads (local development). */
  readonly leaderElection: LeaderElection.Options | undefined
}

/**
 * Build the controllers with `setup` (which starts their informers), then run them while
 * leading. Never returns; fails with LeadershipLost when a lease renewal misses its deadline.
 */
export const run = <E, R>(options: Options, setup: Effect.Effect<ReadonlyArray<Controller.Controller>, E, R | Scope.Scope>) =>
  Effect.gen(function* () {
    const health = yield* Health
    yield* Endpoints.serve(options.endpoints)
    const controllers = yield* setup
    const informers = controllers.flatMap((c) => [c.primary, ...(c.watches ?? []).map((w) => w.informer)])
    yield* health.add("informers-synced", Effect.map(Effect.all(informers.map((i) => i.isSynced)), (all) => all.every(Boolean)))
    const runAll = Effect.forEach(controllers, Controller.run, { concurrency: "unbounded", discard: true }).pipe(
      Effect.zipRight(Effect.never),
      Effect.scoped,
    )
    if (options.leaderElection === undefined) return yield* runAll
    const identity = options.leaderElection.identity
    const elector = yield* LeaderElection.make(options.leaderElection)
    // Ready when leading, or when standing by behind a leader that holds the lease.
    yield* health.add("leader-election", Effect.zipWith(elector.isLeader, elector.holder, (leading, holder) =>
      leading || Option.exists(holder, (h) => h !== "" && h !== identity)))
    return yield* elector.run(runAll)
  })
