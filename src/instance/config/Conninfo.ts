/** libpq connection strings for replication, pg_basebackup and pg_rewind. Pure. */
import { certificateFiles } from "./FixedParameters.ts"

/** A libpq keyword value, quoted when it needs to be. */
export const quoteConninfoValue = (value: string): string =>
  value !== "" && /^[^\s'\\]+$/.test(value) ? value : `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`

/** A libpq connection string from keyword/value pairs (undefined values are left out). */
export const conninfo = (pairs: Readonly<Record<string, string | number | undefined>>): string =>
  Object.entries(pairs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${quoteConninfoValue(String(v))}`)
    .join(" ")

/** Where a peer instance listens. */
export interface Endpoint {
  readonly host: string
  readonly port: number
}

/** Connection as `streaming_replica` with its client certificate, verifying the server against the CA. */
export const streamingReplicaConninfo = (
  to: Endpoint,
  certDir: string,
  extra: Readonly<Record<string, string | undefined>> = {}
): string =>
  conninfo({
    host: to.host,
    port: to.port,
    user: "streaming_replica",
    sslmode: "verify-ca",
    sslrootcert: `${certDir}/${certificateFiles.ca}`,
    sslcert: `${certDir}/${certificateFiles.replicationCert}`,
    sslkey: `${certDir}/${certificateFiles.replicationKey}`,
    connect_timeout: 5,
    ...extra
  })

/** The physical replication slot an instance streams through (HA slots). */
export const slotNameFor = (instance: string): string =>
  `_tusk_${instance.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63)

/** Prefix of every slot Tusk manages. */
export const managedSlotPrefix = "_tusk_"
