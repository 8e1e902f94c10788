/**
 * Whether a standby has replayed WAL that is not in its primary's history: a standby that
 * received more of the old primary's WAL than the instance promoted in its place (possible
 * in asynchronous mode, or from a frozen old primary that delivers its last WAL late). Such a
 * standby can never follow: PostgreSQL refuses to switch to the new timeline ("forked off
 * current database system timeline before current recovery point") and the WAL receiver is
 * refused ("not in this server's history"). It must be rewound like a former primary.
 *
 * Read from PGDATA/pg_wal, so it needs no message text and no connection to the primary:
 * before it gives up, the WAL receiver fetches the primary's timeline history files. Pure.
 */
import { lsnToBigInt } from "./status/PgStatus.ts"

/** One line of a timeline history file: timeline `timeline` ended at `switchpoint`. */
export interface HistoryEntry {
  readonly timeline: number
  readonly switchpoint: bigint
}

/** Parse a `<TLI>.history` file: `parentTLI<TAB>switchpoint<TAB>reason` per line; comments and blanks skipped. */
export const parseHistory = (content: string): ReadonlyArray<HistoryEntry> =>
  content.split("\n").flatMap((line) => {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line)
    return m === null ? [] : [{ timeline: Number(m[1]), switchpoint: lsnToBigInt(m[2]!) }]
  })

/** The timeline of a WAL file name: a segment (`TTTTTTTTXXXXXXXXYYYYYYYY`) or a history file (`TTTTTTTT.history`). */
export const walFileTimeline = (name: string): { readonly kind: "segment" | "history"; readonly timeline: number } | undefined => {
  const segment = /^([0-9A-F]{8})[0-9A-F]{16}$/.exec(name)
  if (segment !== null) return { kind: "segment", timeline: parseInt(segment[1]!, 16) }
  const history = /^([0-9A-F]{8})\.history$/.exec(name)
  return history === null ? undefined : { kind: "history", timeline: parseInt(history[1]!, 16) }
}

export interface StandbyWal {
  /** The timeline of the standby's last restartpoint (`pg_control_checkpoint()`). */
  readonly checkpointTimeline: number
  /** `pg_last_wal_replay_lsn()`. */
  readonly replayedLsn: string
  /** The names in pg_wal. */
  readonly walFiles: ReadonlyArray<string>
  /** Reads a history file of pg_wal by name. */
  readonly readHistory: (name: string) => string | undefined
}

/** Where a standby left its primary's history: the newer timeline it cannot follow, and the fork point. */
export interface Divergence {
  readonly ownTimeline: number
  readonly newerTimeline: number
  /** Where `ownTimeline` ends in the newer timeline's history; undefined when it is not an ancestor at all. */
  readonly forkLsn: string | undefined
  readonly replayedLsn: string
}

const formatLsn = (lsn: bigint): string => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

/**
 * The divergence, if any. The standby's own timeline is the newest it has WAL segments of (a
 * restartpoint may not have moved the checkpoint's timeline yet); a newer timeline known only
 * by its history file is one it has not streamed. It diverged when it replayed past the point
 * where its own timeline ends in that newer history, or when its timeline is not in it.
 */
export const divergence = (wal: StandbyWal): Divergence | undefined => {
  const files = wal.walFiles.flatMap((name) => {
    const parsed = walFileTimeline(name)
    return parsed === undefined ? [] : [{ name, ...parsed }]
  })
  const ownTimeline = Math.max(wal.checkpointTimeline, ...files.filter((f) => f.kind === "segment").map((f) => f.timeline))
  const newest = files.filter((f) => f.kind === "history" && f.timeline > ownTimeline).sort((a, b) => b.timeline - a.timeline)[0]
  if (newest === undefined) return undefined
  const content = wal.readHistory(newest.name)
  if (content === undefined) return undefined
  const fork = parseHistory(content).find((e) => e.timeline === ownTimeline)
  const replayed = lsnToBigInt(wal.replayedLsn)
  if (fork !== undefined && replayed <= fork.switchpoint) return undefined
  return { ownTimeline, newerTimeline: newest.timeline, forkLsn: fork === undefined ? undefined : formatLsn(fork.switchpoint), replayedLsn: wal.replayedLsn }
}
