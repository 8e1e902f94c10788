/**
 * Readiness as named checks (informers synced, leader election settled), evaluated when
 * `/readyz` is asked. `/healthz` only says the process serves.
 */
import { Context, Effect, Layer, Ref } from "effect"

/** The readiness registry. */
export interface Registry {
  /** Add (or replace) a named check. */
  readonly add: (name: string, check: Effect.Effect<boolean>) => Effect.Effect<void>
  /** Names of the checks not passing now; empty means ready. */
  readonly failing: Effect.Effect<ReadonlyArray<string>>
}

/** The readiness service. */
export class Health extends Context.Tag("tusk/kube/Health")<Health, Registry>() {}

/** A fresh registry. */
export const make = Effect.gen(function* () {
  const checks = yield* Ref.make(new Map<string, Effect.Effect<boolean>>())
  return {
    add: (name, check) => Ref.update(checks, (m) => new Map(m).set(name, check)),
    failing: Effect.flatMap(Ref.get(checks), (m) =>
      Effect.filter([...m], ([, check]) => Effect.map(check, (ok) => !ok)).pipe(Effect.map((l) => l.map(([n]) => n)))),
  } satisfies Registry
})

/** The Health service. */
export const layer = Layer.effect(Health, make)
