/**
 * What `kubectl tusk status` shows, as plain data: gathered from the API server and the
 * instances, rendered as text, JSON or YAML. Golden tests feed fixtures of this shape to
 * the renderer, so it carries everything the text needs and nothing live.
 */
import { Schema } from "effect"

const Opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

/** The Cluster's own summary. */
export const Summary = Schema.Struct({
  name: Schema.String,
  namespace: Schema.String,
  systemId: Opt(Schema.String),
  image: Opt(Schema.String),
  primary: Opt(Schema.String),
  primarySince: Opt(Schema.String),
  /** Set while a hand-over is under way (it differs from `primary`). */
  targetPrimary: Opt(Schema.String),
  targetSince: Opt(Schema.String),
  timeline: Opt(Schema.Number),
  phase: Opt(Schema.String),
  phaseReason: Opt(Schema.String),
  instances: Schema.Number,
  readyInstances: Schema.Number,
  /** Instance names, or `*` for all. */
  fenced: Schema.Array(Schema.String),
})
export type Summary = typeof Summary.Type

export const Certificate = Schema.Struct({ name: Schema.String, expires: Schema.String })
export type Certificate = typeof Certificate.Type

/** One standby as the primary sees it in pg_stat_replication. */
export const Standby = Schema.Struct({
  name: Schema.String,
  state: Schema.String,
  sentLsn: Schema.NullOr(Schema.String),
  writeLsn: Schema.NullOr(Schema.String),
  flushLsn: Schema.NullOr(Schema.String),
  replayLsn: Schema.NullOr(Schema.String),
  lagBytes: Schema.NullOr(Schema.Number),
  writeLagSeconds: Schema.NullOr(Schema.Number),
  flushLagSeconds: Schema.NullOr(Schema.Number),
  replayLagSeconds: Schema.NullOr(Schema.Number),
  syncState: Schema.String,
  syncPriority: Schema.Number,
})
export type Standby = typeof Standby.Type

/** One instance: its pod and, when it answered, its /pg/status. */
export const Instance = Schema.Struct({
  name: Schema.String,
  node: Opt(Schema.String),
  podPhase: Schema.String,
  podReady: Schema.Boolean,
  /** The manager's role (Primary, Standby, Fenced, ...) when /pg/status answered. */
  role: Opt(Schema.String),
  roleDetail: Opt(Schema.String),
  currentLsn: Opt(Schema.NullOr(Schema.String)),
  pendingRestart: Opt(Schema.Boolean),
  fenced: Schema.Boolean,
  /** Why /pg/status did not answer. */
  unreachable: Opt(Schema.String),
})
export type Instance = typeof Instance.Type

/** An instance whose pod cannot run, and why. */
export const PendingInstance = Schema.Struct({ name: Schema.String, reason: Schema.String })
export type PendingInstance = typeof PendingInstance.Type

export const Pdb = Schema.Struct({
  name: Schema.String,
  role: Schema.String,
  minAvailable: Opt(Schema.String),
  maxUnavailable: Opt(Schema.String),
  currentHealthy: Schema.Number,
  desiredHealthy: Schema.Number,
  disruptionsAllowed: Schema.Number,
})
export type Pdb = typeof Pdb.Type

/** The whole status report. */
export const StatusReport = Schema.Struct({
  summary: Summary,
  certificates: Schema.Array(Certificate),
  replication: Schema.Array(Standby),
  instances: Schema.Array(Instance),
  pending: Schema.Array(PendingInstance),
  pdbs: Opt(Schema.Array(Pdb)),
  /** What could not be read (shown, never fatal). */
  warnings: Schema.Array(Schema.String),
  observedAt: Schema.String,
})
export type StatusReport = typeof StatusReport.Type
