/**
 * The body of `GET /pg/status` on the instance status API (port 8000). The controller and the
 * kubectl plugin decode it with this Schema. LSNs are PostgreSQL's text form ("0/3000060").
 */
import { Schema } from "effect"

/** One row of pg_stat_replication as seen on a primary. */
export const ReplicationStatus = Schema.Struct({
  applicationName: Schema.String,
  clientAddr: Schema.NullOr(Schema.String),
  state: Schema.String,
  sentLsn: Schema.NullOr(Schema.String),
  writeLsn: Schema.NullOr(Schema.String),
  flushLsn: Schema.NullOr(Schema.String),
  replayLsn: Schema.NullOr(Schema.String),
  writeLagSeconds: Schema.NullOr(Schema.Number),
  flushLagSeconds: Schema.NullOr(Schema.Number),
  replayLagSeconds: Schema.NullOr(Schema.Number),
  /** Bytes between the primary's current LSN and the standby's replay LSN. */
  replayLagBytes: Schema.NullOr(Schema.Number),
  syncState: Schema.String,
  syncPriority: Schema.Number
})
export type ReplicationStatus = typeof ReplicationStatus.Type

/** One replication slot. */
export const SlotStatus = Schema.Struct({
  slotName: Schema.String,
  slotType: Schema.String,
  active: Schema.Boolean,
  restartLsn: Schema.NullOr(Schema.String)
})

/** The WAL receiver of a standby. */
export const WalReceiverStatus = Schema.Struct({
  status: Schema.String,
  receivedTimeline: Schema.Number,
  flushedLsn: Schema.NullOr(Schema.String),
  senderHost: Schema.NullOr(Schema.String),
  senderPort: Schema.NullOr(Schema.Number),
  slotName: Schema.NullOr(Schema.String)
})

/** Roles of the instance manager's state machine. */
export const RoleName = Schema.Literal("Starting", "Standby", "Primary", "Promoting", "Demoting", "Fenced", "Stopped")

export const PgStatus = Schema.Struct({
  instanceName: Schema.String,
  role: RoleName,
  /** Why the manager is in this role or waiting (human-readable). */
  roleDetail: Schema.String,
  /** The postmaster runs and accepts writes. */
  isPrimary: Schema.Boolean,
  postmasterRunning: Schema.Boolean,
  /** Accepting connections (what /readyz reports). */
  ready: Schema.Boolean,
  fenced: Schema.Boolean,
  timeline: Schema.NullOr(Schema.Number),
  systemId: Schema.NullOr(Schema.String),
  /** The primary's current write LSN; on a standby the replay LSN. */
  currentLsn: Schema.NullOr(Schema.String),
  receivedLsn: Schema.NullOr(Schema.String),
  replayedLsn: Schema.NullOr(Schema.String),
  walReceiverActive: Schema.Boolean,
  walReceiver: Schema.NullOr(WalReceiverStatus),
  replication: Schema.Array(ReplicationStatus),
  replicationSlots: Schema.Array(SlotStatus),
  pendingRestart: Schema.Boolean,
  pendingRestartParameters: Schema.Array(Schema.String),
  /** `spec.postgresql.parameters` entries refused because Tusk owns them. */
  refusedParameters: Schema.Array(Schema.String),
  postgresVersion: Schema.NullOr(Schema.String),
  instanceManagerVersion: Schema.String,
  /** The primary this instance last read from the API server (`targetPrimary`, else `currentPrimary`), and how long ago it read it: a cut-off primary's proof that it is still the target. */
  confirmedLeader: Schema.optional(Schema.NullOr(Schema.String)),
  apiContactAgeMs: Schema.optional(Schema.NullOr(Schema.Number)),
  /** The `tusk.dev/restartInstances` token this instance last restarted PostgreSQL for (or started with). */
  restartedFor: Schema.optional(Schema.NullOr(Schema.String)),
  observedAt: Schema.String
})
export type PgStatus = typeof PgStatus.Type

/** An LSN as a number of bytes, for comparisons ("0/3000060" -> 50331744n). */
export const lsnToBigInt = (lsn: string): bigint => {
  const [hi, lo] = lsn.split("/")
  return (BigInt(`0x${hi ?? "0"}`) << 32n) + BigInt(`0x${lo ?? "0"}`)
}
