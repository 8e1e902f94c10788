import { describe, expect, test } from "bun:test"
import { divergence, parseHistory, walFileTimeline, type StandbyWal } from "./Divergence.ts"

const history2 = "1\t0/5000148\tno recovery target specified\n"
const history3 = "1\t0/5000148\tno recovery target specified\n\n2\t0/7000060\tno recovery target specified\n"

const wal = (over: Partial<StandbyWal> & { histories?: Record<string, string> }): StandbyWal => ({
  checkpointTimeline: 1,
  replayedLsn: "0/5000148",
  walFiles: ["000000010000000000000005"],
  readHistory: (name) => over.histories?.[name],
  ...over,
})

describe("timeline history", () => {
  test("parses entries, skips comments and blank lines", () => {
    expect(parseHistory("# comment\n" + history3)).toEqual([
      { timeline: 1, switchpoint: 0x5000148n },
      { timeline: 2, switchpoint: 0x7000060n },
    ])
  })

  test("WAL file names: segments and history files carry their timeline; others are ignored", () => {
    expect(walFileTimeline("0000000A0000000000000005")).toEqual({ kind: "segment", timeline: 10 })
    expect(walFileTimeline("00000002.history")).toEqual({ kind: "history", timeline: 2 })
    expect(walFileTimeline("000000010000000000000005.partial")).toBeUndefined()
    expect(walFileTimeline("archive_status")).toBeUndefined()
  })
})

describe("divergence", () => {
  test("none without a newer timeline", () => {
    expect(divergence(wal({}))).toBeUndefined()
  })

  test("none while the standby is at or before the fork point: it can switch to the new timeline", () => {
    const files = ["000000010000000000000005", "00000002.history"]
    expect(divergence(wal({ walFiles: files, histories: { "00000002.history": history2 } }))).toBeUndefined()
    expect(divergence(wal({ walFiles: files, replayedLsn: "0/4FFFFFF", histories: { "00000002.history": history2 } }))).toBeUndefined()
  })

  test("replayed past the fork point of its timeline: diverged", () => {
    const d = divergence(wal({ walFiles: ["000000010000000000000005", "00000002.history"], replayedLsn: "0/50001C0", histories: { "00000002.history": history2 } }))
    expect(d).toEqual({ ownTimeline: 1, newerTimeline: 2, forkLsn: "0/5000148", replayedLsn: "0/50001C0" })
  })

  test("a standby that already follows the new timeline (its segments are there) is not diverged, though its restartpoint is older", () => {
    const files = ["000000010000000000000005", "000000020000000000000005", "00000002.history"]
    expect(divergence(wal({ walFiles: files, replayedLsn: "0/6000000", histories: { "00000002.history": history2 } }))).toBeUndefined()
  })

  test("the newest history decides, with the fork point of the standby's own timeline", () => {
    const files = ["000000020000000000000007", "00000002.history", "00000003.history"]
    const histories = { "00000002.history": history2, "00000003.history": history3 }
    expect(divergence(wal({ checkpointTimeline: 2, walFiles: files, replayedLsn: "0/7000000", histories }))).toBeUndefined()
    expect(divergence(wal({ checkpointTimeline: 2, walFiles: files, replayedLsn: "0/7000100", histories }))?.forkLsn).toBe("0/7000060")
  })

  test("a timeline that is not in the primary's history at all: diverged, no fork point", () => {
    const files = ["000000020000000000000007", "00000003.history"]
    const d = divergence(wal({ checkpointTimeline: 2, walFiles: files, histories: { "00000003.history": history2 } }))
    expect(d).toMatchObject({ ownTimeline: 2, newerTimeline: 3, forkLsn: undefined })
  })

  test("an unreadable history file is no evidence", () => {
    expect(divergence(wal({ walFiles: ["000000010000000000000005", "00000002.history"], replayedLsn: "0/6000000" }))).toBeUndefined()
  })
})
