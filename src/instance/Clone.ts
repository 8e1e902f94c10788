/**
 * `tusk instance join` and re-cloning: copy the primary with pg_basebackup as
 * `streaming_replica` (TLS client certificate, verify-ca) into a scratch directory, mark it
 * a standby, then move it to PGDATA. Safe to retry.
 */
import { Data, Effect } from "effect"
import { dirname } from "node:path"
import * as Certificates from "./Certificates.ts"
import type { ClusterView } from "./ClusterView.ts"
import { streamingReplicaConninfo } from "./config/Conninfo.ts"
import * as ConfigFiles from "./ConfigFiles.ts"
import { endpointOf, InstanceSettings } from "./InstanceSettings.ts"
import { dataState, ensureDir, install, removeTree, writeStandbySignal } from "./Pgdata.ts"
import * as Process from "./Process.ts"
import { SpecSource } from "./SpecSource.ts"

export class NoPrimary extends Data.TaggedError("NoPrimary")<{ readonly message: string }> {}

/** Replace PGDATA with a fresh copy of instance `from`. */
export const cloneFrom = Effect.fn("Instance.clone")(function*(view: ClusterView, from: string) {
  const settings = yield* InstanceSettings
  const scratch = `${settings.pgdata}.clone`
  yield* removeTree(scratch)
  yield* ensureDir(dirname(settings.pgdata), 0o750).pipe(Effect.ignore)
  yield* ensureDir(settings.certDir, 0o700)
  yield* ensureDir(settings.socketDir, 0o750)
  yield* Certificates.write(view, settings.certDir)
  const source = endpointOf(settings, view.metadata.name, from)
  yield* Effect.logInfo("cloning with pg_basebackup").pipe(Effect.annotateLogs({ from, host: source.host, port: source.port }))
  yield* Process.run([
    `${settings.binDir}/pg_basebackup`,
    "-D", scratch,
    "-d", streamingReplicaConninfo(source, settings.certDir, { application_name: `${settings.instanceName}-join` }),
    "--wal-method=stream",
    "--checkpoint=fast",
    "--no-password"
  ])
  yield* writeStandbySignal(scratch)
  yield* ConfigFiles.write(scratch, ConfigFiles.render(view, settings, []))
  yield* install(scratch, settings.pgdata)
  yield* Effect.logInfo("clone complete")
})

/** `tusk instance join`: clone the current primary unless PGDATA already holds data. */
export const join = Effect.fn("Instance.join")(function*() {
  const settings = yield* InstanceSettings
  const spec = yield* SpecSource
  if ((yield* dataState(settings.pgdata)) !== "missing") {
    yield* Effect.logInfo("PGDATA already holds a cluster; nothing to do")
    return
  }
  const view = yield* spec.cluster
  const primary = view.status?.currentPrimary ?? view.status?.targetPrimary
  if (primary === undefined || primary === settings.instanceName) {
    return yield* new NoPrimary({ message: "the Cluster has no primary to clone from" })
  }
  yield* cloneFrom(view, primary)
})
