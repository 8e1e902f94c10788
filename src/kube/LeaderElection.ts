/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings and rules:
 * try every retryPeriod until the lease is free or expired, renew every retryPeriod, give
 * up leadership when renewals fail for renewDeadline, and release the lease on shutdown so
 * a standby takes over at once.
 */
import { Data, Duration, Effect, Option, Ref } from "effect"
import * as Backoff from "./Backoff.ts"
import { KubeClient } from "./KubeClient.ts"
import * as Lease from "./Lease.ts"

/** Where the lease is, who we are, and the timings. */
export interface Options {
  readonly namespace: string
  readonly name: string
  readonly identity: string
  readonly leaseDuration?: Duration.Duration | undefined
  readonly renewDeadline?: Duration.Duration | undefined
  readonly retryPeriod?: Duration.Duration | undefined
}

/** Renewal failed for longer than the renew deadline; another replica may lead now. */
export class LeadershipLost extends Data.TaggedError("LeadershipLost")<{ readonly message: string }> {}

/** A candidate. */
export interface Elector {
  /** Wait for leadership, then run `whileLeader` until it ends, leadership is lost, or interruption (which releases the lease). */
  readonly run: <A, E, R>(whileLeader: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LeadershipLost, R>
  readonly isLeader: Effect.Effect<boolean>
  /** The holder last seen on the lease. */
  readonly holder: Effect.Effect<Option.Option<string>>
}

/** The defaults of client-go and controller-runtime: 15 s lease, 10 s renew deadline, 2 s retry. */
export const defaults = {
  leaseDuration: Duration.seconds(15),
  renewDeadline: Duration.seconds(10),
  retryPeriod: Duration.seconds(2),
}

/** A candidate for the lease described by `options`. */
export const make = Effect.fn("LeaderElection.make")(function* (options: Options) {
  const client = yield* KubeClient
  const leaseDuration = options.leaseDuration ?? defaults.leaseDuration
  const renewDeadline = options.renewDeadline ?? defaults.renewDeadline
  const retryPeriod = options.retryPeriod ?? defaults.retryPeriod
  const seconds = Math.round(Duration.toSeconds(leaseDuration))
  const at = { namespace: options.namespace }
  const leader = yield* Ref.make(false)
  const holder = yield* Ref.make(Option.none<string>())
  let observed: Lease.Observation | undefined
  // The lease as we last wrote it: while leading, renew it directly (one PUT, no GET);
  // a Conflict means someone else wrote it, and the next attempt reads it again.
  let written: Lease.Lease | undefined
  // When the lease held by another expires by our observation: the next attempt is made then.
  let expiresAt: number | undefined
  const log = Effect.annotateLogs({ lease: `${options.namespace}/${options.name}`, identity: options.identity })

  const renewWritten = (lease: Lease.Lease) =>
    Effect.gen(function* () {
      const now = Date.now()
      const decision = Lease.decide(options.identity, seconds, lease.spec, { spec: lease.spec, at: now }, now)
      if (decision._tag !== "Take") return false
      written = yield* client.replace(Lease.leases, { ...lease, spec: decision.spec }, at)
      observed = { spec: decision.spec, at: now }
      return true
    })

  // One attempt to take or renew; true when we hold the lease afterwards.
  const attempt = Effect.suspend(() => {
    const mine = written
    written = undefined
    return mine === undefined ? readAndDecide : renewWritten(mine)
  }).pipe(
    Effect.catchAll((e) =>
      Effect.as(
        e._tag === "Conflict" || e._tag === "AlreadyExists"
          ? Effect.void
          : Effect.logWarning("lease update failed").pipe(Effect.annotateLogs({ error: e._tag, detail: e.message })),
        false,
      )
    ),
  )

  const readAndDecide = Effect.gen(function* () {
    const now = Date.now()
    const current = yield* client.get(Lease.leases, options.name, at).pipe(Effect.map(Option.some), Effect.catchTag("NotFound", () => Effect.succeed(Option.none())))
    if (Option.isNone(current)) {
      const decision = Lease.decide(options.identity, seconds, {}, { spec: {}, at: now }, now)
      if (decision._tag !== "Take") return false
      written = yield* client.create(Lease.leases, { metadata: { name: options.name, namespace: options.namespace }, spec: decision.spec }, at)
      observed = { spec: decision.spec, at: now }
      yield* Ref.set(holder, Option.some(options.identity))
      return true
    }
    const lease = current.value
    if (observed === undefined || Lease.changed(observed.spec, lease.spec)) observed = { spec: lease.spec, at: now }
    const decision = Lease.decide(options.identity, seconds, lease.spec, observed, now)
    if (decision._tag === "Wait") {
      expiresAt = decision.expiresAt
      yield* Ref.set(holder, Option.some(decision.holder))
      return false
    }
    written = yield* client.replace(Lease.leases, { ...lease, spec: decision.spec }, at)
    observed = { spec: decision.spec, at: now }
    yield* Ref.set(holder, Option.some(options.identity))
    return true
  })

  // Every retryPeriod (jittered), or right after the observed expiry when that comes sooner.
  const sleepRetry = Effect.suspend(() => {
    const regular = Duration.toMillis(Backoff.spread(retryPeriod, 0.1))
    const untilExpiry = expiresAt === undefined ? regular : Math.max(0, expiresAt - Date.now()) + 50
    expiresAt = undefined
    return Effect.sleep(Duration.millis(Math.min(regular, untilExpiry)))
  })

  const acquire = Effect.gen(function* () {
    yield* Effect.logInfo("waiting for leadership")
    while (!(yield* attempt)) yield* sleepRetry
    yield* Ref.set(leader, true)
    yield* Effect.logInfo("became leader")
  }).pipe(log)

  // Renew every retryPeriod; a renewal that cannot succeed within renewDeadline ends leadership.
  const renew = Effect.gen(function* () {
    for (;;) {
      yield* Effect.sleep(retryPeriod)
      const renewed = yield* Effect.gen(function* () {
        while (!(yield* attempt)) yield* sleepRetry
      }).pipe(Effect.timeoutOption(renewDeadline))
      if (Option.isNone(renewed)) {
        yield* Ref.set(leader, false)
        return yield* new LeadershipLost({ message: `could not renew lease ${options.namespace}/${options.name} within ${Duration.format(renewDeadline)}` })
      }
    }
  }).pipe(log)

  const release = Effect.gen(function* () {
    if (!(yield* Ref.getAndSet(leader, false))) return
    const lease = yield* client.get(Lease.leases, options.name, at)
    if (lease.spec.holderIdentity !== options.identity) return
    yield* client.replace(Lease.leases, { ...lease, spec: Lease.released(lease.spec, Date.now()) }, at)
    yield* Effect.logInfo("released leadership")
  }).pipe(
    Effect.timeout(Duration.seconds(5)),
    Effect.catchAll((e) => Effect.logWarning("could not release the lease").pipe(Effect.annotateLogs({ error: e._tag }))),
    log,
  )

  return {
    run: <A, E, R>(whileLeader: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(acquire, () => Effect.raceFirst(whileLeader, renew), () => release),
    isLeader: Ref.get(leader),
    holder: Ref.get(holder),
  } satisfies Elector
})
