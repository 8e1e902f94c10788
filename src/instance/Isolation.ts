/**
 * Self-fencing (rule 5 of docs/high-availability.md). Every instance reads its Cluster
 * from the API server every `checkIntervalMs` and remembers which instance it names as
 * primary and when (shown in `/pg/status` as `confirmedLeader`/`apiContactAgeMs`). A primary
 * keeps PostgreSQL running only while it can confirm, within the last `isolationTimeoutMs`,
 * that it is still the one named: by its own read, or through a peer's status API that
 * names it and heard from the API server that recently. Otherwise it cannot learn that it
 * was replaced, so it assumes it was and stops PostgreSQL.
 *
 * The arithmetic (`src/api/Fencing.ts`): the operator treats a former primary it cannot
 * reach as stopped only `unreachableStoppedAfterMs` (10 s) after naming a new target, and
 * the target promotes only after that. A primary whose last confirmation was at t0 stops by
 * t0 + 5 s (bound) + 0.5 s (check period) + 2 s (fast shutdown, then immediate) = t0 + 7.5 s.
 * Its last confirmation cannot postdate the move of `targetPrimary`, so it has stopped at
 * least 2.5 s before the target may promote.
 */
import { Effect, Option, Ref, Schedule, Schema } from "effect"
import { isolationTimeoutMs } from "../api/Fencing.ts"
import { leader } from "./ClusterView.ts"
import { certificateFiles } from "./config/FixedParameters.ts"
import { InstanceSettings } from "./InstanceSettings.ts"
import { SpecSource } from "./SpecSource.ts"
import { PgStatus } from "./status/PgStatus.ts"

export { isolationTimeoutMs }
/** How often the API server (and, when it does not answer, the peers) are asked; one ask may take `checkTimeoutMs`. */
export const checkIntervalMs = 500
export const checkTimeoutMs = 3_000
/** How long an isolated primary's fast shutdown may take before it is made immediate. */
export const fastShutdownMs = 2_000

/** A confirmation of who leads: the instance named, and when that was read from the API server. */
export interface Confirmation {
  readonly leader: string | undefined
  readonly at: number
}

/** Whether a primary last confirmed as leader at `confirmedAt` must stop at `now` (pure). */
export const isIsolated = (confirmedAt: number, now: number, peersExpected: boolean): boolean =>
  peersExpected && now - confirmedAt >= isolationTimeoutMs

/** What a peer's /pg/status proves: its confirmation, dated on our clock (conservatively, from when we asked). */
export const peerConfirmation = (status: PgStatus, askedAt: number): Confirmation | undefined =>
  status.apiContactAgeMs == null ? undefined : { leader: status.confirmedLeader ?? undefined, at: askedAt - status.apiContactAgeMs }

const decodeStatus = Schema.decodeUnknown(Schema.parseJson(PgStatus))

export interface Watch {
  /** This instance's own last read of the API server (for /pg/status). */
  readonly own: Effect.Effect<Option.Option<Confirmation>>
  /** Whether this instance, as primary, must stop now. */
  readonly isolated: Effect.Effect<boolean>
}

/**
 * Runs in the scope. `applies` says whether this instance acts as primary with other
 * instances around; `onIsolated` runs when the verdict becomes true (the caller stops
 * PostgreSQL at once, without waiting for its loop), `onChange` on every flip.
 */
export const watch = Effect.fn("Isolation.watch")(function*(options: {
  readonly self: string
  /** Addresses of the standbys that last streamed from here, to ask when the API server does not answer. */
  readonly peers: Effect.Effect<ReadonlyArray<string>>
  readonly applies: Effect.Effect<boolean>
  readonly onChange: (isolated: boolean) => Effect.Effect<void>
}) {
  const settings = yield* InstanceSettings
  const source = yield* SpecSource
  const ca = Bun.file(`${settings.certDir}/${certificateFiles.ca}`)
  const own = yield* Ref.make<Option.Option<Confirmation>>(Option.none())
  // The last time this instance was confirmed as leader, by itself or by a peer.
  const confirmedAt = yield* Ref.make(Date.now())
  const verdict = yield* Ref.make(false)
  const lastError = yield* Ref.make("")

  const confirmed = (c: Confirmation) =>
    c.leader === options.self ? Ref.update(confirmedAt, (t) => Math.max(t, c.at)) : Effect.void

  const readApi = Effect.gen(function*() {
    const at = Date.now()
    const view = yield* source.live
    const c: Confirmation = { leader: leader(view), at }
    yield* Ref.update(own, (prev) => Option.isSome(prev) && prev.value.at > at ? prev : Option.some(c))
    yield* confirmed(c)
  })

  const askPeer = (address: string) =>
    Effect.gen(function*() {
      const askedAt = Date.now()
      const body = yield* Effect.tryPromise((signal) =>
        fetch(`https://${address.includes(":") ? `[${address}]` : address}:${settings.statusPort}/pg/status`, {
          signal,
          tls: { ca, checkServerIdentity: () => undefined }
        }).then((r) => r.text())
      )
      const c = peerConfirmation(yield* decodeStatus(body), askedAt)
      if (c !== undefined) yield* confirmed(c)
    })

  const check = Effect.gen(function*() {
    const applies = yield* options.applies
    const api = readApi.pipe(
      Effect.timeout(checkTimeoutMs),
      Effect.tapError((e) => Ref.set(lastError, e._tag === "TimeoutException" ? "API server: timed out" : `API server: ${e.message}`)),
      Effect.either
    )
    if (!applies) return yield* api
    const ownOk = yield* api
    if (ownOk._tag === "Right") return
    // A loopback address is this host (tests on one machine): asking it proves nothing.
    const known = (yield* options.peers).filter((a) => !/^(127\.|::1$)/.test(a))
    yield* Effect.forEach(known, (p) => askPeer(p).pipe(Effect.timeout(checkTimeoutMs), Effect.ignore), { concurrency: "unbounded" })
  })

  const applied = yield* Ref.make(false)
  yield* Effect.gen(function*() {
    // A slow check never delays the next one.
    yield* check.pipe(Effect.ignore, Effect.fork)
    const applies = yield* options.applies
    // Becoming primary needed the API server just now (it was named, it recorded itself).
    if (applies && !(yield* Ref.getAndSet(applied, applies))) yield* Ref.set(confirmedAt, Date.now())
    if (!applies) yield* Ref.set(applied, false)
    const now = isIsolated(yield* Ref.get(confirmedAt), Date.now(), applies)
    if (now !== (yield* Ref.getAndSet(verdict, now))) {
      yield* (now
        ? Effect.logWarning("cannot confirm being the primary: stopping PostgreSQL").pipe(
          Effect.annotateLogs({ lastError: yield* Ref.get(lastError), confirmedMsAgo: Date.now() - (yield* Ref.get(confirmedAt)) })
        )
        : Effect.logWarning("confirmed as the primary again"))
      yield* options.onChange(now)
    }
  }).pipe(Effect.repeat(Schedule.spaced(checkIntervalMs)), Effect.forkScoped)

  return { own: Ref.get(own), isolated: Ref.get(verdict) } satisfies Watch
})
