/**
 * `Backup` and `ScheduledBackup` of `postgresql.tusk.dev/v1`, with CloudNativePG's field
 * names. The API is in place so manifests move over unchanged; Tusk does not take
 * backups yet, and the reconciler reports that in each Backup's status.
 */
import { Schema } from "effect"
import { DocId, rule } from "./Annotations.ts"
import { apiVersion } from "./Cluster.ts"
import { optional, withDefault } from "./Fields.ts"
import { LocalObjectReference, ObjectMeta, Opaque } from "./Kubernetes.ts"

const BackupMethod = Schema.Literal("barmanObjectStore", "volumeSnapshot", "plugin")
const BackupTarget = Schema.Literal("primary", "prefer-standby")

export const BackupSpec = Schema.Struct({
  cluster: LocalObjectReference.annotations({ [DocId]: "The Cluster to back up." }),
  method: withDefault(BackupMethod, "barmanObjectStore"),
  target: optional(BackupTarget),
  online: optional(Schema.Boolean),
  onlineConfiguration: optional(Opaque),
  pluginConfiguration: optional(Opaque),
})

export const BackupStatus = Schema.Struct({
  phase: optional(Schema.String),
  error: optional(Schema.String),
  method: optional(Schema.String),
  instanceID: optional(Opaque),
  startedAt: optional(Schema.String),
  stoppedAt: optional(Schema.String),
  beginLSN: optional(Schema.String),
  endLSN: optional(Schema.String),
  backupId: optional(Schema.String),
})

export const Backup = Schema.Struct({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal("Backup"),
  metadata: ObjectMeta,
  spec: BackupSpec,
  status: optional(BackupStatus),
})
export type Backup = typeof Backup.Type

/** Six-field cron (seconds first), as CloudNativePG's ScheduledBackup expects. */
const sixFieldCron = /^\S+(\s+\S+){5}$/

export const ScheduledBackupSpec = Schema.Struct({
  schedule: Schema.String.pipe(
    rule((s) => sixFieldCron.test(s.trim()), {
      rule: `self.trim().matches('${sixFieldCron.source.replaceAll("\\", "\\\\")}')`,
      message: "schedule must be a cron expression with six fields (seconds first)",
    }),
  ),
  cluster: LocalObjectReference,
  suspend: optional(Schema.Boolean),
  immediate: optional(Schema.Boolean),
  backupOwnerReference: withDefault(Schema.Literal("none", "self", "cluster"), "none"),
  method: withDefault(BackupMethod, "barmanObjectStore"),
  target: optional(BackupTarget),
  online: optional(Schema.Boolean),
  onlineConfiguration: optional(Opaque),
  pluginConfiguration: optional(Opaque),
})

export const ScheduledBackupStatus = Schema.Struct({
  lastCheckTime: optional(Schema.String),
  lastScheduleTime: optional(Schema.String),
  nextScheduleTime: optional(Schema.String),
})

export const ScheduledBackup = Schema.Struct({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal("ScheduledBackup"),
  metadata: ObjectMeta,
  spec: ScheduledBackupSpec,
  status: optional(ScheduledBackupStatus),
})
export type ScheduledBackup = typeof ScheduledBackup.Type
