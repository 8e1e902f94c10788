/**
 * PostgreSQL parameters Tusk owns and the values it gives them. Pure data. The list of owned
 * names is the API's (`src/api/ManagedParameters.ts`, which the CRD turns into a CEL rule);
 * the instance manager refuses them again in `spec.postgresql.parameters`.
 */
import { isManagedParameter, managedParameters } from "../../api/ManagedParameters.ts"

/** Parameters a user may not set: Tusk sets them (or they would break HA, TLS, paths or logging). */
export const ownedParameterNames: ReadonlyArray<string> = managedParameters

/** Whether `name` is a parameter Tusk owns (PostgreSQL names are case-insensitive). */
export const isOwnedParameter = isManagedParameter

/** Defaults Tusk applies when the user sets nothing; the user may override these. */
export const defaultParameters: Readonly<Record<string, string>> = {
  max_wal_senders: "10",
  max_replication_slots: "32",
  wal_keep_size: "512MB",
  wal_sender_timeout: "5s",
  wal_receiver_timeout: "5s",
  wal_receiver_status_interval: "1s",
  // A standby retries its primary this often: after a hand-over it follows the new primary
  // (and, in synchronous mode, lets its commits through) within this much of it being reachable.
  wal_retrieve_retry_interval: "200ms",
  hot_standby_feedback: "on",
  log_line_prefix: "%m [%p] %q%u@%d ",
  password_encryption: "scram-sha-256"
}

/** Where the instance lives: the inputs of the fixed settings. */
export interface InstanceLocation {
  readonly clusterName: string
  readonly port: number
  readonly listenAddresses: string
  readonly socketDir: string
  readonly certDir: string
}

/** Certificate file names inside the certificates directory. */
export const certificateFiles = {
  ca: "ca.crt",
  serverCert: "server.crt",
  serverKey: "server.key",
  replicationCert: "streaming_replica.crt",
  replicationKey: "streaming_replica.key"
} as const

/** The values of the owned parameters Tusk sets on every instance (replication settings aside). */
export const fixedParameters = (at: InstanceLocation, sharedPreloadLibraries: ReadonlyArray<string> = []): Record<string, string> => ({
  listen_addresses: at.listenAddresses,
  port: String(at.port),
  unix_socket_directories: at.socketDir,
  cluster_name: at.clusterName,
  hot_standby: "on",
  wal_level: "logical",
  wal_log_hints: "on",
  restart_after_crash: "off",
  archive_mode: "off",
  ssl: "on",
  ssl_min_protocol_version: "TLSv1.3",
  ssl_ca_file: `${at.certDir}/${certificateFiles.ca}`,
  ssl_cert_file: `${at.certDir}/${certificateFiles.serverCert}`,
  ssl_key_file: `${at.certDir}/${certificateFiles.serverKey}`,
  logging_collector: "off",
  log_destination: "stderr",
  shared_preload_libraries: sharedPreloadLibraries.join(",")
})
