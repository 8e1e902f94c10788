/**
 * `tusk instance run`: the supervisor. One loop observes (the Cluster, the postmaster, PGDATA),
 * keeps the configuration files in line with the spec, asks `Role.decide` what to do and does
 * it. It wakes on every spec change and otherwise every second (faster while in transition).
 * Closing its scope (SIGTERM) shuts PostgreSQL down: CHECKPOINT, smart, fast, immediate.
 */
import { type Duration, Effect, type Option, Queue, Ref, Schedule, Stream } from "effect"
import { annotations } from "../api/Naming.ts"
import * as Certificates from "./Certificates.ts"
import { isFenced, leader, restartToken, shutdownBudget, type ClusterView } from "./ClusterView.ts"
import * as Clone from "./Clone.ts"
import * as Divergence from "./Divergence.ts"
import { managedSlotPrefix, slotNameFor } from "./config/Conninfo.ts"
import * as ConfigFiles from "./ConfigFiles.ts"
import { InstanceSettings } from "./InstanceSettings.ts"
import * as Isolation from "./Isolation.ts"
import { dataState, ensureDir, postmasterPidStatus, readWalDirectory } from "./Pgdata.ts"
import * as Postmaster from "./Postmaster.ts"
import * as ReceiverWatch from "./ReceiverWatch.ts"
import * as Rewind from "./Rewind.ts"
import { Action, decide, isolatedRole, Role, type Observation, type Postmaster as PostmasterObservation } from "./Role.ts"
import { SpecSource } from "./SpecSource.ts"
import * as Sql from "./Sql.ts"
import { probe, streamingStandbys, type Probed } from "./status/Probe.ts"

/** What the loop knows between ticks. */
export interface ManagerState {
  readonly role: Role
  readonly detail: string
  readonly postmaster: Postmaster.Postmaster | undefined
  readonly refusedParameters: ReadonlyArray<string>
  readonly fenced: boolean
  /** When the loop last completed a tick (liveness). */
  readonly lastTick: number
  /** When the postmaster was last started, and how many times in a row it died soon after. */
  readonly lastStart: number
  readonly quickExits: number
  /** The Cluster's reload annotation as last acted on. */
  readonly reloadedAt: string | undefined
  /** The restart token for this instance as last acted on (see `restartToken`). */
  readonly restartedFor: string | undefined
  /** A standby's WAL receiver that is not streaming, watched for a stall (see ReceiverWatch.ts). */
  readonly receiverWatch: ReceiverWatch.ReceiverWatch | undefined
  /** This standby's WAL left its primary's history (see Divergence.ts); cleared once rewound. */
  readonly diverged: Divergence.Divergence | undefined
}

/** How long to wait before starting a postmaster that died `quickExits` times in a row (pure). */
export const restartDelayMs = (quickExits: number): number =>
  quickExits <= 0 ? 0 : Math.min(30_000, 500 * 2 ** (quickExits - 1))

/** A postmaster that dies within this long of its start counts as a failed start. */
const quickExitWindowMs = 30_000

/** What the status API and the metrics exporter read from a running manager. */
export interface Manager {
  readonly state: Effect.Effect<ManagerState>
  readonly view: Effect.Effect<ClusterView>
  readonly sql: Sql.Sql
  /** Probe PostgreSQL if the postmaster accepts connections. */
  readonly probe: Effect.Effect<Probed | undefined>
  /** Who this instance last read from the API server as primary, and when. */
  readonly confirmation: Effect.Effect<Option.Option<Isolation.Confirmation>>
  /** Stop PostgreSQL for good (SIGTERM): once, whoever asks first. */
  readonly shutdown: Effect.Effect<void>
}

/** How long a former primary's status API keeps reporting it stopped after a shutdown during a hand-over. */
const handOverLinger: Duration.DurationInput = "1500 millis"

/** How long the loop sleeps when nothing changes: short while a promotion waits on the WAL receiver. */
const tickInterval = (role: Role): Duration.DurationInput =>
  role._tag === "Promoting" ? "20 millis" : role._tag === "Starting" || role._tag === "Demoting" ? "100 millis" : "1 second"

/** Start the manager in the current scope; the loop runs until the scope closes. */
export const start = Effect.fn("Instance.start")(function*() {
  const settings = yield* InstanceSettings
  const source = yield* SpecSource
  const self = settings.instanceName
  yield* ensureDir(settings.socketDir, 0o750)
  yield* ensureDir(settings.certDir, 0o700)
  const first = yield* source.cluster.pipe(
    Effect.tapError((e) => Effect.logWarning("waiting for the Cluster", e.message)),
    Effect.retry(Schedule.spaced("1 second"))
  )
  const viewRef = yield* Ref.make(first)
  const state = yield* Ref.make<ManagerState>({
    role: Role.Starting(),
    detail: "starting",
    postmaster: undefined,
    refusedParameters: [],
    fenced: false,
    lastTick: Date.now(),
    lastStart: 0,
    quickExits: 0,
    reloadedAt: first.metadata.annotations?.[annotations.reloadedAt],
    // A new pod's PostgreSQL starts fresh: the request it finds is already satisfied.
    restartedFor: restartToken(first, self),
    receiverWatch: undefined,
    diverged: undefined
  })
  const sql = yield* Sql.connect({ socketDir: settings.socketDir, port: settings.port }, "postgres", 3)
  const wake = yield* Queue.sliding<void>(1)
  const anotherNamed = Ref.get(viewRef).pipe(Effect.map((v) => {
    const lead = leader(v)
    return lead !== undefined && lead !== self
  }))
  const running = Ref.get(state).pipe(Effect.map((s) => s.postmaster !== undefined && s.postmaster.exitCode() === null ? s.postmaster : undefined))

  const scope = yield* Effect.scope
  // Self-fencing stops PostgreSQL from here, not from the loop, which may be busy in an action.
  const fenceSelf = Effect.gen(function*() {
    const pm = yield* running
    if (pm === undefined) return
    yield* Postmaster.stop(pm, [
      { signal: Postmaster.fast, wait: `${Isolation.fastShutdownMs} millis` },
      { signal: Postmaster.immediate, wait: "10 seconds" }
    ])
  })
  const standbyAddresses = yield* Ref.make<ReadonlyArray<string>>([])
  const isolation = yield* Isolation.watch({
    self,
    peers: Ref.get(standbyAddresses),
    // Only a primary with peers to fail over to stops when it cannot confirm being named.
    applies: Effect.gen(function*() {
      const v = yield* Ref.get(viewRef)
      const { role } = yield* Ref.get(state)
      const actsAsPrimary = role._tag === "Primary" || (role._tag === "Stopped" && role.reason === isolatedRole.reason)
      return actsAsPrimary && leader(v) === self && (v.status?.instanceNames ?? []).some((n) => n !== self)
    }),
    onChange: (isolated) => (isolated ? Effect.forkIn(fenceSelf, scope) : Effect.void).pipe(Effect.zipRight(wake.offer(undefined)), Effect.asVoid)
  })

  yield* source.changes.pipe(
    Stream.runForEach((view) => Ref.set(viewRef, view).pipe(Effect.zipRight(wake.offer(undefined)))),
    Effect.tapError((e) => Effect.logWarning("Cluster watch failed", e.message)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )

  const probeIfUp: Effect.Effect<Probed | undefined> = Effect.gen(function*() {
    if ((yield* running) === undefined) return undefined
    const status = yield* postmasterPidStatus(settings.pgdata)
    if (status !== "ready" && status !== "standby") return undefined
    return yield* probe(sql).pipe(Effect.timeout("3 seconds"), Effect.orElseSucceed(() => undefined))
  })

  const observePostmaster = (probed: Probed | undefined): Effect.Effect<PostmasterObservation> =>
    Effect.gen(function*() {
      const pm = yield* running
      if (pm === undefined) return { _tag: "NotRunning" } as const
      if (probed !== undefined) return { _tag: "Running", inRecovery: probed.inRecovery } as const
      const status = yield* postmasterPidStatus(settings.pgdata)
      return status === "stopping" ? { _tag: "ShuttingDown" } as const : { _tag: "Starting" } as const
    })

  const stopPostmaster = (view: ClusterView) =>
    Effect.gen(function*() {
      const pm = yield* running
      if (pm === undefined) return
      yield* Postmaster.stop(pm, [
        { signal: Postmaster.fast, wait: `${shutdownBudget(view).stopSeconds} seconds` },
        { signal: Postmaster.immediate, wait: "10 seconds" }
      ])
      yield* Ref.update(state, (s) => ({ ...s, postmaster: undefined }))
    })

  /**
   * A primary that stopped because another instance is named says so itself: the successor
   * may promote as soon as it reads this, without waiting for the operator to look.
   */
  const reportStoppedIfHandingOver = (view: ClusterView) =>
    Effect.gen(function*() {
      const status = view.status
      const successor = status?.targetPrimary
      if (status?.currentPrimary !== self || successor === undefined || successor === self || isFenced(view, self)) return false
      const reported = yield* source.reportStopped(self, successor).pipe(
        Effect.tapError((e) => Effect.logWarning("could not report the stop; the operator will see it", e.message)),
        Effect.orElseSucceed(() => false)
      )
      if (reported) yield* Effect.logInfo("reported stopped for the hand-over").pipe(Effect.annotateLogs({ successor }))
      return reported
    })

  // Before currentPrimary is recorded: the checkpoint puts the new timeline in pg_control,
  // which pg_rewind on the old primary reads.
  const checkpoint = Sql.query(() => sql`CHECKPOINT`)

  const recordPrimary = Effect.gen(function*() {
    // Keep the updated Cluster at once, so the next tick does not report again.
    yield* Ref.set(viewRef, yield* source.setCurrentPrimary(self))
    yield* Effect.logInfo("reported as current primary")
  })

  const wantedSlots = (view: ClusterView) => new Set((view.status?.instanceNames ?? []).filter((n) => n !== self).map(slotNameFor))

  const createSlots = (view: ClusterView, existing: ReadonlyArray<string>) =>
    Effect.forEach([...wantedSlots(view)].filter((name) => !existing.includes(name)), (name) =>
      Sql.query(() => sql`select pg_create_physical_replication_slot(${name}, true)`).pipe(
        Effect.zipRight(Effect.logInfo("replication slot created").pipe(Effect.annotateLogs({ slot: name })))
      ), { discard: true })

  const reconcileSlots = (view: ClusterView, probed: Probed) =>
    Effect.gen(function*() {
      const wanted = wantedSlots(view)
      const existing = probed.slots.filter((s) => s.slotName.startsWith(managedSlotPrefix))
      yield* createSlots(view, existing.map((s) => s.slotName))
      for (const slot of existing) {
        if (!wanted.has(slot.slotName) && !slot.active) {
          yield* Sql.query(() => sql`select pg_drop_replication_slot(${slot.slotName})`)
          yield* Effect.logInfo("replication slot dropped").pipe(Effect.annotateLogs({ slot: slot.slotName }))
        }
      }
    })

  const demoteData = (view: ClusterView, from: string) =>
    // An interrupted pg_rewind can leave the data unusable: let it finish.
    Effect.uninterruptible(Rewind.rewindFrom(view, from)).pipe(
      Effect.catchTag("RewindImpossible", (e) =>
        Effect.logWarning("pg_rewind impossible; re-cloning", e.message).pipe(Effect.zipRight(Clone.cloneFrom(view, from)))),
      Effect.zipRight(Ref.update(state, (s) => ({ ...s, diverged: undefined }))),
      // E.g. the -rw Service does not point at the new primary yet: try again shortly.
      Effect.catchTag("RewindSourceUnavailable", (e) =>
        Effect.logInfo("new primary not reachable yet", e.message).pipe(Effect.zipRight(Effect.sleep("1 second"))))
    )

  const execute = (action: Action, view: ClusterView, probed: Probed | undefined): Effect.Effect<void, unknown, InstanceSettings | SpecSource> =>
    Action.$match(action, {
      Wait: () => probed !== undefined && !probed.inRecovery && view.status?.currentPrimary === self ? reconcileSlots(view, probed) : Effect.void,
      StartPostmaster: () =>
        Effect.gen(function*() {
          // A postmaster that keeps dying (a bad parameter, a full disk) is retried with back-off.
          const s = yield* Ref.get(state)
          if (Date.now() - s.lastStart < restartDelayMs(s.quickExits)) return
          // A former primary named again (a hand-over called off) withdraws its "stopped" before
          // it takes writes: a later hand-over must not find it and promote beside it.
          if (view.status?.formerPrimaryStopped === self && (yield* dataState(settings.pgdata)) === "primary") {
            yield* source.clearStopped(self)
          }
          const pm = yield* Postmaster.start({ binDir: settings.binDir, pgdata: settings.pgdata, instance: self })
          yield* Ref.update(state, (st) => ({ ...st, postmaster: pm, lastStart: Date.now() }))
          // A postmaster that dies (a crash, a SIGKILL) is looked at at once, not at the next tick.
          yield* pm.exited.pipe(Effect.zipRight(wake.offer(undefined)), Effect.forkIn(scope))
        }),
      StopPostmaster: () => stopPostmaster(view).pipe(Effect.zipRight(reportStoppedIfHandingOver(view))),
      Promote: () =>
        Effect.uninterruptible(Effect.gen(function*() {
          const started = Date.now()
          // pg_promote's own wait looks every 100 ms: ask without waiting and look more often.
          const [row] = yield* Sql.query(() => sql`select pg_promote(false) as signalled`)
          if (row?.["signalled"] !== true) return yield* new Sql.SqlError({ message: "pg_promote could not signal the postmaster" })
          yield* Sql.query(() => sql`select pg_is_in_recovery() as in_recovery`).pipe(
            Effect.repeat({ while: ([r]) => r?.["in_recovery"] !== false, schedule: Schedule.spaced("10 millis") }),
            Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Sql.SqlError({ message: "promotion did not complete within 60 s" }) })
          )
          yield* Effect.logInfo("promoted").pipe(Effect.annotateLogs({ durationMs: Date.now() - started }))
          // The slots with the checkpoint: the standbys stream only from slots of ours, and in
          // synchronous mode no commit goes through until one of them does.
          const slots = Sql.query(() => sql`select slot_name from pg_replication_slots`).pipe(
            Effect.flatMap((rows) => createSlots(view, rows.map((r) => String(r["slot_name"]))))
          )
          yield* Effect.all([slots, checkpoint], { concurrency: 2, discard: true })
          yield* recordPrimary
        })),
      ReportPrimary: () => checkpoint.pipe(Effect.zipRight(recordPrimary)),
      Rewind: ({ from }) => demoteData(view, from)
    })

  /** Restart a WAL receiver stuck on a primary that is gone; the startup process starts a new one. */
  const watchReceiver = (view: ClusterView, probed: Probed) =>
    Effect.gen(function*() {
      const { receiverWatch } = yield* Ref.get(state)
      const { watch, restart } = ReceiverWatch.next(receiverWatch, {
        streaming: probed.walReceiver?.status === "streaming",
        primary: view.status?.currentPrimary,
        now: Date.now()
      })
      yield* Ref.update(state, (s) => ({ ...s, receiverWatch: watch }))
      const pid = probed.walReceiverPid
      if (!restart || pid === null) return
      yield* Effect.logWarning("restarting a WAL receiver that does not stream").pipe(Effect.annotateLogs({ pid, primary: watch?.primary }))
      yield* Effect.try(() => process.kill(pid, "SIGTERM")).pipe(Effect.ignore)
    })

  /**
   * A standby that does not stream from a new primary may have replayed past the point where
   * that primary's timeline forked: look at the history files its WAL receiver fetched.
   */
  const checkDivergence = (view: ClusterView, probed: Probed) =>
    Effect.gen(function*() {
      const primary = view.status?.currentPrimary
      if (probed.walReceiver?.status === "streaming" || primary === undefined || primary === self) return
      const checkpointTimeline = probed.restartpointTimeline
      const replayedLsn = probed.replayedLsn
      if (checkpointTimeline === null || replayedLsn === null || (yield* Ref.get(state)).diverged !== undefined) return
      const wal = yield* readWalDirectory(settings.pgdata)
      const found = Divergence.divergence({ checkpointTimeline, replayedLsn, ...wal })
      if (found === undefined) return
      yield* Effect.logWarning("this standby replayed WAL that is not in the primary's history: it will be rewound").pipe(
        Effect.annotateLogs({ primary, ...found })
      )
      yield* Ref.update(state, (s) => ({ ...s, diverged: found }))
      yield* wake.offer(undefined)
    })

  /** Restart PostgreSQL as asked (e.g. for a parameter that needs it); the loop starts it again at once. */
  const restartInPlace = (token: string) =>
    Effect.gen(function*() {
      const pm = yield* running
      yield* Effect.logInfo("restarting PostgreSQL as requested").pipe(Effect.annotateLogs({ token }))
      if (pm !== undefined) {
        const { role } = yield* Ref.get(state)
        // A checkpoint first keeps the shutdown checkpoint, and so the restart, short.
        if (role._tag === "Primary") yield* Sql.query(() => sql`CHECKPOINT`).pipe(Effect.timeout("30 seconds"), Effect.ignore)
        yield* Postmaster.stop(pm, [
          { signal: Postmaster.fast, wait: "60 seconds" },
          { signal: Postmaster.immediate, wait: "10 seconds" }
        ])
      }
      // Not a failed start: no back-off.
      yield* Ref.update(state, (s) => ({ ...s, postmaster: undefined, restartedFor: token, lastStart: 0, quickExits: 0 }))
      // Not Wait, so the loop looks again at once and starts PostgreSQL.
      return { role: Role.Starting(), action: Action.StartPostmaster() }
    })

  /** Write certificates and configuration files; SIGHUP the postmaster when they changed. */
  const reconcileConfig = (view: ClusterView, probed: Probed | undefined) =>
    Effect.gen(function*() {
      const certsChanged = yield* Certificates.write(view, settings.certDir)
      const rendered = ConfigFiles.render(view, settings, probed === undefined ? [] : streamingStandbys(probed))
      const changed = yield* ConfigFiles.write(settings.pgdata, rendered)
      const pm = yield* running
      // `tusk.dev/reloadedAt` on the Cluster asks for a reload even when no file changed.
      const reloadedAt = view.metadata.annotations?.[annotations.reloadedAt]
      const asked = reloadedAt !== (yield* Ref.get(state)).reloadedAt
      if (asked) yield* Ref.update(state, (s) => ({ ...s, reloadedAt }))
      if ((changed || certsChanged || asked) && pm !== undefined) {
        pm.signal("SIGHUP")
        yield* Effect.logInfo("configuration reloaded").pipe(Effect.annotateLogs({ files: changed, certificates: certsChanged, requested: asked }))
      }
      return rendered.refused
    })

  const tick = Effect.gen(function*() {
    const view = yield* Ref.get(viewRef)
    const before = yield* Ref.get(state)
    const probed = yield* probeIfUp
    const streamingFrom = (probed?.replication ?? []).flatMap((r) => (r.clientAddr === null ? [] : [r.clientAddr]))
    if (streamingFrom.length > 0) yield* Ref.set(standbyAddresses, streamingFrom)
    const postmaster = yield* observePostmaster(probed)
    if (before.postmaster !== undefined && postmaster._tag === "NotRunning") {
      const quick = Date.now() - before.lastStart < quickExitWindowMs
      yield* Effect.logWarning("postmaster exited").pipe(Effect.annotateLogs({ exitCode: before.postmaster.exitCode(), soonAfterStart: quick }))
      yield* Ref.update(state, (s) => ({ ...s, postmaster: undefined, quickExits: quick ? s.quickExits + 1 : 0 }))
    }
    if (postmaster._tag === "Running" && before.quickExits > 0) yield* Ref.update(state, (s) => ({ ...s, quickExits: 0 }))
    const data = yield* dataState(settings.pgdata)
    const fenced = isFenced(view, self)
    const observation: Observation = {
      self,
      targetPrimary: view.status?.targetPrimary,
      currentPrimary: view.status?.currentPrimary,
      predecessorStopped:
        view.status?.currentPrimary === undefined ||
        view.status.currentPrimary === self ||
        view.status.formerPrimaryStopped === view.status.currentPrimary,
      fenced,
      data,
      postmaster,
      walReceiverActive: probed?.walReceiver !== null && probed?.walReceiver !== undefined,
      caughtUp: probed?.caughtUp ?? false,
      diverged: before.diverged !== undefined,
      isolated: yield* isolation.isolated
    }
    const decision = decide(before.role, observation)
    if (decision.role._tag !== before.role._tag) {
      yield* Effect.logInfo("role changed").pipe(Effect.annotateLogs({ from: before.role._tag, to: decision.role._tag }))
    }
    const detail = decision.action._tag === "Wait" ? decision.action.why : decision.action._tag
    // Stopping comes first (a primary no longer named must stop taking writes before anything
    // else); otherwise the files are brought in line, and a failure there blocks no decision.
    const refused = decision.action._tag === "StopPostmaster" || data === "missing"
      ? before.refusedParameters
      : yield* reconcileConfig(view, probed).pipe(
        Effect.catchAll((e) => Effect.logWarning("configuration not updated", e.message).pipe(Effect.as(before.refusedParameters)))
      )
    yield* Ref.update(state, (s) => ({ ...s, role: decision.role, detail, refusedParameters: refused, fenced }))
    if (decision.role._tag === "Standby" && probed !== undefined) {
      yield* watchReceiver(view, probed)
      yield* checkDivergence(view, probed)
    }
    const token = restartToken(view, self)
    // Only from a steady state (no hand-over, no start or stop in progress).
    if (token !== undefined && token !== before.restartedFor && decision.action._tag === "Wait") return yield* restartInPlace(token)
    yield* execute(decision.action, view, probed)
    yield* Ref.update(state, (s) => ({ ...s, lastTick: Date.now() }))
    return decision
  })

  // A tick and the shutdown never overlap; once stopping, no tick runs (none may start PostgreSQL again).
  const ticking = yield* Effect.makeSemaphore(1)
  const stopping = yield* Ref.make(false)

  const loop = Effect.gen(function*() {
    if (yield* Ref.get(stopping)) return yield* Effect.never
    const decision = yield* ticking.withPermits(1)(tick).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logError("tick failed", cause).pipe(Effect.as(undefined)))
    )
    // After an action, look again at once; otherwise wait for a change or the next period.
    if (decision !== undefined && decision.action._tag !== "Wait") return
    const s = yield* Ref.get(state)
    yield* wake.take.pipe(Effect.timeout(tickInterval(s.role)), Effect.ignore)
  })
  // Stop PostgreSQL for good. Run by `tusk instance run` before the status API closes (so the
  // operator sees it stopped at once), and as this scope's finalizer otherwise. The Cluster watch
  // outlives it, so a hand-over is still seen while it runs.
  const shutdown = yield* Effect.once(
    Effect.gen(function*() {
      yield* ticking.withPermits(1)(Ref.set(stopping, true))
      const pm = yield* running
      if (pm === undefined) return
      const s = yield* Ref.get(state)
      const budget = shutdownBudget(yield* Ref.get(viewRef))
      const fast = [
        { signal: Postmaster.fast, wait: `${budget.stopSeconds} seconds` },
        { signal: Postmaster.immediate, wait: "10 seconds" }
      ] as const
      yield* Effect.logInfo("shutting down PostgreSQL")
      const orderly = Effect.gen(function*() {
        if (s.role._tag === "Primary") {
          yield* Sql.query(() => sql`CHECKPOINT`).pipe(Effect.timeout(`${budget.smartSeconds} seconds`), Effect.ignore)
        }
        // Our own sessions would hold a smart shutdown open.
        yield* Effect.promise(() => sql.end({ timeout: 1 }))
        yield* Postmaster.stop(pm, [
          { signal: Postmaster.smart, wait: `${budget.smartSeconds} seconds` },
          { signal: Postmaster.fast, wait: `${Math.max(budget.stopSeconds - budget.smartSeconds, 5)} seconds` },
          { signal: Postmaster.immediate, wait: "10 seconds" }
        ])
      })
      if (s.role._tag !== "Primary") return yield* orderly
      // A primary whose pod goes while another instance is (or becomes) the target stops fast:
      // the target's WAL receiver must stop at once for it to promote.
      const handOver = anotherNamed.pipe(
        Effect.repeat({ until: (named) => named, schedule: Schedule.spaced("50 millis") }),
        Effect.zipRight(Effect.logInfo("another instance is named primary: fast shutdown")),
        Effect.zipRight(Postmaster.stop(pm, fast)),
        Effect.zipRight(Effect.flatMap(Ref.get(viewRef), reportStoppedIfHandingOver))
      )
      // Finalizers run uninterruptibly: the loser of the race must be made interruptible to be stopped.
      const reported = yield* Effect.race(Effect.interruptible(Effect.as(orderly, false)), Effect.interruptible(handOver))
      // Unreported, the target waits for the operator to see its predecessor stopped: stay up long
      // enough for the operator (which looks every 250 ms during a hand-over) to read it on the
      // status API, rather than waiting for the pod object to go.
      if (!reported && (yield* anotherNamed)) yield* Effect.sleep(handOverLinger)
    })
  )
  yield* Effect.addFinalizer(() => shutdown)

  yield* Effect.forever(loop).pipe(Effect.forkScoped)

  // SIGHUP to the manager (PID 1) is forwarded: PostgreSQL rereads its files.
  const forwardHup = () => {
    const s = Effect.runSync(Ref.get(state))
    s.postmaster?.signal("SIGHUP")
  }
  yield* Effect.acquireRelease(Effect.sync(() => process.on("SIGHUP", forwardHup)), () => Effect.sync(() => process.off("SIGHUP", forwardHup)))

  return {
    state: Ref.get(state),
    view: Ref.get(viewRef),
    sql,
    probe: probeIfUp,
    confirmation: isolation.own,
    shutdown
  } satisfies Manager
})
