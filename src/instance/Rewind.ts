/**
 * Bring a former primary onto the new primary's timeline: pg_rewind from the new primary
 * (as streaming_replica, TLS client certificate), then mark it a standby. When the source is
 * unreachable the caller retries later; when rewinding is impossible it re-clones.
 */
import { Data, Effect } from "effect"
import type { ClusterView } from "./ClusterView.ts"
import { streamingReplicaConninfo } from "./config/Conninfo.ts"
import * as ConfigFiles from "./ConfigFiles.ts"
import { endpointOf, InstanceSettings } from "./InstanceSettings.ts"
import { writeStandbySignal } from "./Pgdata.ts"
import * as Process from "./Process.ts"

/** The source could not be reached: try again later, do not give up the data. */
export class RewindSourceUnavailable extends Data.TaggedError("RewindSourceUnavailable")<{ readonly message: string }> {}
/** pg_rewind ran against a reachable source and failed: the data must be re-cloned. */
export class RewindImpossible extends Data.TaggedError("RewindImpossible")<{ readonly message: string }> {}

const unreachable = /could not connect|connection to server .* failed|timeout expired|could not translate host name/i

/** Whether pg_rewind's diagnostics say the source was not reachable (pure). */
export const isSourceUnavailable = (stderr: string): boolean => unreachable.test(stderr)

/** pg_rewind PGDATA from instance `from`, then make it a standby of it. */
export const rewindFrom = Effect.fn("Instance.rewind")(function*(view: ClusterView, from: string) {
  const settings = yield* InstanceSettings
  const source = endpointOf(settings, view.metadata.name, from)
  const started = Date.now()
  yield* Process.run([
    `${settings.binDir}/pg_rewind`,
    `--target-pgdata=${settings.pgdata}`,
    `--source-server=${streamingReplicaConninfo(source, settings.certDir, { dbname: "postgres", application_name: `${settings.instanceName}-rewind` })}`
  ]).pipe(
    Effect.mapError((e) =>
      isSourceUnavailable(e.stderr)
        ? new RewindSourceUnavailable({ message: e.message })
        : new RewindImpossible({ message: e.message }))
  )
  yield* writeStandbySignal(settings.pgdata)
  yield* ConfigFiles.write(settings.pgdata, ConfigFiles.render(view, settings, []))
  yield* Effect.logInfo("rewound").pipe(Effect.annotateLogs({ from, durationMs: Date.now() - started }))
})
