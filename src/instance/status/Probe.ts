/** What PostgreSQL says about itself: the SQL behind /pg/status and the manager's observations. */
import { Effect } from "effect"
import { query, type Sql } from "../Sql.ts"
import type { ReplicationStatus } from "./PgStatus.ts"

/** Facts read from a running instance. */
export interface Probed {
  readonly inRecovery: boolean
  readonly systemId: string
  readonly version: string
  readonly timeline: number | null
  /** A standby's timeline as of its last restartpoint (`pg_control_checkpoint()`); null on a primary. */
  readonly restartpointTimeline: number | null
  readonly currentLsn: string | null
  readonly receivedLsn: string | null
  readonly replayedLsn: string | null
  readonly caughtUp: boolean
  readonly walReceiver: {
    readonly status: string
    readonly receivedTimeline: number
    readonly flushedLsn: string | null
    readonly senderHost: string | null
    readonly senderPort: number | null
    readonly slotName: string | null
  } | null
  /** The WAL receiver process, also while it is still connecting (pg_stat_wal_receiver shows it only once connected). */
  readonly walReceiverPid: number | null
  readonly replication: ReadonlyArray<ReplicationStatus>
  readonly slots: ReadonlyArray<{ slotName: string; slotType: string; active: boolean; restartLsn: string | null }>
  readonly pendingRestart: ReadonlyArray<string>
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/** Probe the instance (a handful of catalog reads, a few milliseconds). */
export const probe = Effect.fn("Probe.probe")(function*(sql: Sql) {
  const [base] = yield* query(() => sql`
    select pg_is_in_recovery() as in_recovery,
      (select system_identifier::text from pg_control_system()) as system_id,
      current_setting('server_version') as version,
      case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end as current_lsn,
      pg_last_wal_receive_lsn()::text as received_lsn,
      pg_last_wal_replay_lsn()::text as replayed_lsn,
      coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) <= 0, true) as caught_up,
      case when pg_is_in_recovery() then (select timeline_id from pg_control_checkpoint())
        else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline,
      (select pid from pg_stat_activity where backend_type = 'walreceiver' limit 1) as walreceiver_pid`)
  const receivers = yield* query(() => sql`
    select status, received_tli, flushed_lsn::text as flushed_lsn, sender_host, sender_port, slot_name from pg_stat_wal_receiver`)
  const replication = yield* query(() => sql`
    select application_name, client_addr::text as client_addr, state,
      sent_lsn::text as sent_lsn, write_lsn::text as write_lsn, flush_lsn::text as flush_lsn, replay_lsn::text as replay_lsn,
      extract(epoch from write_lag)::float8 as write_lag, extract(epoch from flush_lag)::float8 as flush_lag,
      extract(epoch from replay_lag)::float8 as replay_lag,
      case when pg_is_in_recovery() then null else pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 end as replay_lag_bytes,
      sync_state, sync_priority
    from pg_stat_replication order by application_name`)
  const slots = yield* query(() => sql`
    select slot_name, slot_type, active, restart_lsn::text as restart_lsn from pg_replication_slots order by slot_name`)
  const pending = yield* query(() => sql`select name from pg_settings where pending_restart order by name`)
  const receiver = receivers[0]
  const receiverTimeline = receiver === undefined ? null : numberOrNull(receiver["received_tli"])
  const probed: Probed = {
    inRecovery: base?.["in_recovery"] === true,
    systemId: String(base?.["system_id"] ?? ""),
    version: String(base?.["version"] ?? ""),
    timeline: receiverTimeline ?? numberOrNull(base?.["timeline"]),
    restartpointTimeline: base?.["in_recovery"] === true ? numberOrNull(base["timeline"]) : null,
    currentLsn: base?.["current_lsn"] ?? null,
    receivedLsn: base?.["received_lsn"] ?? null,
    replayedLsn: base?.["replayed_lsn"] ?? null,
    caughtUp: base?.["caught_up"] === true,
    walReceiver: receiver === undefined ? null : {
      status: String(receiver["status"]),
      receivedTimeline: Number(receiver["received_tli"]),
      flushedLsn: receiver["flushed_lsn"] ?? null,
      senderHost: receiver["sender_host"] ?? null,
      senderPort: numberOrNull(receiver["sender_port"]),
      slotName: receiver["slot_name"] ?? null
    },
    walReceiverPid: numberOrNull(base?.["walreceiver_pid"]),
    replication: replication.map((r) => ({
      applicationName: String(r["application_name"]),
      clientAddr: r["client_addr"] ?? null,
      state: String(r["state"]),
      sentLsn: r["sent_lsn"] ?? null,
      writeLsn: r["write_lsn"] ?? null,
      flushLsn: r["flush_lsn"] ?? null,
      replayLsn: r["replay_lsn"] ?? null,
      writeLagSeconds: numberOrNull(r["write_lag"]),
      flushLagSeconds: numberOrNull(r["flush_lag"]),
      replayLagSeconds: numberOrNull(r["replay_lag"]),
      replayLagBytes: numberOrNull(r["replay_lag_bytes"]),
      syncState: String(r["sync_state"]),
      syncPriority: Number(r["sync_priority"])
    })),
    slots: slots.map((s) => ({
      slotName: String(s["slot_name"]),
      slotType: String(s["slot_type"]),
      active: s["active"] === true,
      restartLsn: s["restart_lsn"] ?? null
    })),
    pendingRestart: pending.map((p) => String(p["name"]))
  }
  return probed
})

/** Standbys streaming from this instance right now. */
export const streamingStandbys = (p: Probed): ReadonlyArray<string> =>
  p.replication.filter((r) => r.state === "streaming").map((r) => r.applicationName)
