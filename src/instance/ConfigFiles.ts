/** The three configuration files of an instance, rendered from the Cluster and written into PGDATA. */
import { Effect } from "effect"
import { type ClusterView } from "./ClusterView.ts"
import { slotNameFor, streamingReplicaConninfo } from "./config/Conninfo.ts"
import { renderPgHba, renderPgIdent } from "./config/PgHba.ts"
import { refusedParameters, renderPostgresqlConf } from "./config/PostgresqlConf.ts"
import { synchronousStandbyNames } from "./config/SynchronousStandbyNames.ts"
import { endpointOf, type InstanceSettingsShape } from "./InstanceSettings.ts"
import { writeIfChanged } from "./Pgdata.ts"

/** The instance a standby streams from: the current primary, else the target; never itself. */
export const upstreamOf = (view: ClusterView, self: string): string | undefined => {
  const current = view.status?.currentPrimary
  const target = view.status?.targetPrimary
  if (current !== undefined && current !== self) return current
  if (target !== undefined && target !== self) return target
  return undefined
}

export interface RenderedConfig {
  readonly files: Readonly<Record<"postgresql.conf" | "pg_hba.conf" | "pg_ident.conf", string>>
  /** User parameters that were refused (left out). */
  readonly refused: ReadonlyArray<string>
}

/** Render the files. `streaming` lists the standbys now streaming from this instance. Pure. */
export const render = (view: ClusterView, settings: InstanceSettingsShape, streaming: ReadonlyArray<string>): RenderedConfig => {
  const self = settings.instanceName
  const pg = view.spec.postgresql
  const userParameters = pg?.parameters ?? {}
  const refused = refusedParameters(userParameters)
  const accepted = Object.fromEntries(Object.entries(userParameters).filter(([k]) => !refused.includes(k)))
  const upstream = upstreamOf(view, self)
  const instances = view.status?.instanceNames ?? []
  const conf = renderPostgresqlConf({
    location: {
      clusterName: view.metadata.name,
      port: settings.port,
      listenAddresses: settings.listenAddresses,
      socketDir: settings.socketDir,
      certDir: settings.certDir
    },
    userParameters: accepted,
    sharedPreloadLibraries: pg?.shared_preload_libraries ?? [],
    synchronousStandbyNames: synchronousStandbyNames({
      synchronous: pg?.synchronous,
      minSyncReplicas: view.spec.minSyncReplicas,
      maxSyncReplicas: view.spec.maxSyncReplicas,
      self,
      instances,
      streaming
    }),
    primaryConninfo: upstream === undefined
      ? ""
      : streamingReplicaConninfo(endpointOf(settings, view.metadata.name, upstream), settings.certDir, { application_name: self }),
    primarySlotName: upstream !== undefined && instances.includes(self) ? slotNameFor(self) : ""
  })
  return {
    files: {
      "postgresql.conf": conf,
      "pg_hba.conf": renderPgHba(pg?.pg_hba ?? []),
      "pg_ident.conf": renderPgIdent(settings.osUser, pg?.pg_ident ?? [])
    },
    refused
  }
}

/** Write the rendered files into `pgdata`; returns whether any changed. */
export const write = (pgdata: string, rendered: RenderedConfig): Effect.Effect<boolean> =>
  Effect.forEach(Object.entries(rendered.files), ([name, content]) => writeIfChanged(`${pgdata}/${name}`, content, 0o600)).pipe(
    Effect.map((changed) => changed.some((c) => c))
  )
