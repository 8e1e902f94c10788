/** The instance status API on port 8000 (TLS with the server certificate): /healthz, /readyz, /pg/status. */
import { type Duration, Effect, Option, Ref, Runtime, Schedule, Schema } from "effect"
import { certificateFiles } from "../config/FixedParameters.ts"
import { InstanceSettings } from "../InstanceSettings.ts"
import type { Manager } from "../Manager.ts"
import { PgStatus } from "./PgStatus.ts"

/** How often the server certificate files are compared with the ones in use. */
const certificateCheckInterval: Duration.DurationInput = "5 seconds"

/** The loop must have completed a tick this recently for /healthz to pass. */
const livenessWindowMs = 30_000

/** Assemble /pg/status from the manager's state and a live probe. */
export const currentStatus = Effect.fn("StatusServer.currentStatus")(function*(manager: Manager) {
  const settings = yield* InstanceSettings
  const state = yield* manager.state
  const probed = yield* manager.probe
  const confirmation = Option.getOrUndefined(yield* manager.confirmation)
  const status: PgStatus = {
    instanceName: settings.instanceName,
    role: state.role._tag,
    roleDetail: state.detail,
    isPrimary: probed !== undefined && !probed.inRecovery,
    postmasterRunning: state.postmaster !== undefined && state.postmaster.exitCode() === null,
    ready: probed !== undefined,
    fenced: state.fenced,
    timeline: probed?.timeline ?? null,
    systemId: probed?.systemId ?? null,
    currentLsn: probed === undefined ? null : probed.currentLsn ?? probed.replayedLsn,
    receivedLsn: probed?.receivedLsn ?? null,
    replayedLsn: probed?.replayedLsn ?? null,
    walReceiverActive: probed?.walReceiver !== null && probed?.walReceiver !== undefined,
    walReceiver: probed?.walReceiver ?? null,
    replication: probed?.replication ?? [],
    replicationSlots: probed?.slots ?? [],
    pendingRestart: (probed?.pendingRestart.length ?? 0) > 0,
    pendingRestartParameters: probed?.pendingRestart ?? [],
    refusedParameters: state.refusedParameters,
    postgresVersion: probed?.version ?? null,
    instanceManagerVersion: settings.version,
    confirmedLeader: confirmation?.leader ?? null,
    restartedFor: state.restartedFor ?? null,
    apiContactAgeMs: confirmation === undefined ? null : Date.now() - confirmation.at,
    observedAt: new Date().toISOString()
  }
  return status
})

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

/** Serve the status API for the life of the scope. */
export const serve = Effect.fn("StatusServer.serve")(function*(manager: Manager) {
  const settings = yield* InstanceSettings
  const runtime = yield* Effect.runtime<InstanceSettings>()
  const encode = Schema.encode(PgStatus)
  const handle = (request: Request): Effect.Effect<Response> => {
    const path = new URL(request.url).pathname
    switch (path) {
      case "/healthz":
        return manager.state.pipe(Effect.map((s) =>
          Date.now() - s.lastTick < livenessWindowMs ? new Response("ok\n") : new Response("supervisor loop stalled\n", { status: 500 })))
      case "/readyz":
        return Effect.all([manager.state, manager.probe]).pipe(Effect.map(([s, probed]) =>
          probed !== undefined && !s.fenced ? new Response("ok\n") : new Response("not ready\n", { status: 503 })))
      case "/pg/status":
        return currentStatus(manager).pipe(
          Effect.flatMap(encode),
          Effect.map((body) => json(body)),
          Effect.provideService(InstanceSettings, settings),
          Effect.catchAll((e) => Effect.succeed(json({ error: String(e) }, 500)))
        )
      default:
        return Effect.succeed(new Response("not found\n", { status: 404 }))
    }
  }
  const run = Runtime.runPromise(runtime)
  const certFile = `${settings.certDir}/${certificateFiles.serverCert}`
  const keyFile = `${settings.certDir}/${certificateFiles.serverKey}`
  const readPair = Effect.promise(async () => ({ cert: await Bun.file(certFile).text(), key: await Bun.file(keyFile).text() }))
  const listen = (tls: { readonly cert: string; readonly key: string }) =>
    Bun.serve({
      hostname: settings.httpHost,
      port: settings.statusPort,
      // Lets a renewed certificate's server bind before the old one closes: no gap.
      reusePort: true,
      tls,
      fetch: (request) => run(handle(request))
    })
  const current = yield* Effect.acquireRelease(
    readPair.pipe(Effect.flatMap((pair) => Ref.make({ pair, server: listen(pair) }))),
    (ref) => Ref.get(ref).pipe(Effect.flatMap(({ server }) => Effect.promise(() => server.stop(true))))
  )
  yield* Effect.logInfo("status API listening").pipe(Effect.annotateLogs({ port: settings.statusPort }))
  // A renewed server certificate is picked up by listening again with it.
  const renew = Effect.gen(function*() {
    const pair = yield* readPair
    const { pair: old, server } = yield* Ref.get(current)
    if (pair.cert === old.cert && pair.key === old.key) return
    const next = yield* Effect.try(() => listen(pair))
    yield* Ref.set(current, { pair, server: next })
    yield* Effect.promise(() => server.stop(false))
    yield* Effect.logInfo("status API certificate renewed")
  })
  yield* renew.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("status API certificate not renewed", cause)),
    Effect.repeat(Schedule.spaced(certificateCheckInterval)),
    Effect.forkScoped
  )
})
