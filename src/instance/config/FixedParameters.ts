/**
 * PostgreSQL parameters Tusk owns. Pure data: the CRD generation turns `ownedParameterNames`
 * into a validation rule, and the instance manager refuses them in `spec.postgresql.parameters`.
 */

/** Parameters a user may not set: Tusk sets them (or they would break HA, TLS, paths or logging). */
export const ownedParameterNames: ReadonlyArray<string> = [
  "allow_system_table_mods",
  "archive_cleanup_command",
  "archive_command",
  "archive_mode",
  "bonjour",
  "bonjour_name",
  "cluster_name",
  "config_file",
  "data_directory",
  "data_sync_retry",
  "event_source",
  "external_pid_file",
  "full_page_writes",
  "hba_file",
  "hot_standby",
  "ident_file",
  "jit_provider",
  "listen_addresses",
  "log_destination",
  "log_directory",
  "log_file_mode",
  "log_filename",
  "log_rotation_age",
  "log_rotation_size",
  "log_truncate_on_rotation",
  "logging_collector",
  "port",
  "primary_conninfo",
  "primary_slot_name",
  "promote_trigger_file",
  "recovery_end_command",
  "recovery_min_apply_delay",
  "recovery_target",
  "recovery_target_action",
  "recovery_target_inclusive",
  "recovery_target_lsn",
  "recovery_target_name",
  "recovery_target_time",
  "recovery_target_timeline",
  "recovery_target_xid",
  "restart_after_crash",
  "restore_command",
  "ssl",
  "ssl_ca_file",
  "ssl_cert_file",
  "ssl_crl_dir",
  "ssl_crl_file",
  "ssl_dh_params_file",
  "ssl_key_file",
  "ssl_min_protocol_version",
  "ssl_passphrase_command",
  "ssl_passphrase_command_supports_reload",
  "synchronous_standby_names",
  "syslog_facility",
  "syslog_ident",
  "syslog_sequence_numbers",
  "syslog_split_messages",
  "unix_socket_directories",
  "unix_socket_group",
  "unix_socket_permissions",
  "wal_level",
  "wal_log_hints"
]

const owned = new Set(ownedParameterNames)

/** Whether `name` is a parameter Tusk owns (PostgreSQL names are case-insensitive). */
export const isOwnedParameter = (name: string): boolean => owned.has(name.toLowerCase())

/** Defaults Tusk applies when the user sets nothing; the user may override these. */
export const defaultParameters: Readonly<Record<string, string>> = {
  max_wal_senders: "10",
  max_replication_slots: "32",
  wal_keep_size: "512MB",
  wal_sender_timeout: "5s",
  wal_receiver_timeout: "5s",
  wal_receiver_status_interval: "1s",
  wal_retrieve_retry_interval: "1s",
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
export const fixedParameters = (at: InstanceLocation): Record<string, string> => ({
  listen_addresses: at.listenAddresses,
  port: String(at.port),
  unix_socket_directories: at.socketDir,
  cluster_name: at.clusterName,
  hot_standby: "on",
  wal_level: "logical",
  wal_log_hints: "on",
  full_page_writes: "on",
  restart_after_crash: "off",
  archive_mode: "off",
  ssl: "on",
  ssl_min_protocol_version: "TLSv1.3",
  ssl_ca_file: `${at.certDir}/${certificateFiles.ca}`,
  ssl_cert_file: `${at.certDir}/${certificateFiles.serverCert}`,
  ssl_key_file: `${at.certDir}/${certificateFiles.serverKey}`,
  logging_collector: "off",
  log_destination: "stderr"
})
