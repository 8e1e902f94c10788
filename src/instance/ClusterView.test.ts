import { describe, expect, test } from "bun:test"
import { Schema } from "effect"
import { ClusterView, isFenced, leader, restartAnnotation, restartToken, secretNames, superuserHasPassword } from "./ClusterView.ts"
import { upstreamOf } from "./ConfigFiles.ts"
import { initdbArgs } from "./Initdb.ts"
import { isSourceUnavailable } from "./Rewind.ts"

const view = (extra: object = {}): ClusterView =>
  Schema.decodeUnknownSync(ClusterView)({ metadata: { name: "c" }, spec: { instances: 3, storage: { size: "1Gi" } }, ...extra })

describe("ClusterView", () => {
  test("decodes a full Cluster, ignoring what the instance does not use", () => {
    const v = view({ status: { currentPrimary: "c-1", phase: "Cluster in healthy state" } })
    expect(v.status?.currentPrimary).toBe("c-1")
  })
  test("fencing: comma list, JSON array, or *", () => {
    const annotated = (value: string) => view({ metadata: { name: "c", annotations: { "tusk.dev/fencedInstances": value } } })
    expect(isFenced(annotated("c-1, c-2"), "c-2")).toBe(true)
    expect(isFenced(annotated("c-1"), "c-2")).toBe(false)
    expect(isFenced(annotated('["c-3"]'), "c-3")).toBe(true)
    expect(isFenced(annotated("*"), "c-9")).toBe(true)
    expect(isFenced(annotated(""), "c-1")).toBe(false)
    expect(isFenced(view(), "c-1")).toBe(false)
  })
  test("the leader is the target while set", () => {
    expect(leader(view({ status: { currentPrimary: "c-1", targetPrimary: "c-2" } }))).toBe("c-2")
    expect(leader(view({ status: { currentPrimary: "c-1" } }))).toBe("c-1")
  })
  test("a standby follows the current primary, else the target, never itself", () => {
    expect(upstreamOf(view({ status: { currentPrimary: "c-1", targetPrimary: "c-2" } }), "c-3")).toBe("c-1")
    expect(upstreamOf(view({ status: { currentPrimary: "c-1", targetPrimary: "c-2" } }), "c-2")).toBe("c-1")
    expect(upstreamOf(view({ status: { currentPrimary: "c-2", targetPrimary: "c-2" } }), "c-2")).toBeUndefined()
    expect(upstreamOf(view({ status: { targetPrimary: "c-1" } }), "c-3")).toBe("c-1")
  })
  test("secret names default like CloudNativePG's", () => {
    expect(secretNames(view())).toEqual({ superuser: "c-superuser", app: "c-app", ca: "c-ca", server: "c-server", replication: "c-replication" })
    const custom = view({ spec: { superuserSecret: { name: "su" }, bootstrap: { initdb: { secret: { name: "owner" } } } } })
    expect(secretNames(custom).superuser).toBe("su")
    expect(secretNames(custom).app).toBe("owner")
    expect(superuserHasPassword(view())).toBe(false)
    expect(superuserHasPassword(custom)).toBe(true)
  })
  test("initdb arguments follow bootstrap.initdb", () => {
    const args = initdbArgs(view({ spec: { bootstrap: { initdb: { encoding: "UTF8", localeCType: "C", localeCollate: "C", dataChecksums: true, walSegmentSize: 32 } } } }))
    expect(args).toContain("--encoding=UTF8")
    expect(args).toContain("--lc-collate=C")
    expect(args).toContain("--lc-ctype=C")
    expect(args).toContain("--data-checksums")
    expect(args).toContain("--wal-segsize=32")
    expect(initdbArgs(view({ spec: { bootstrap: { initdb: { locale: "en_US.UTF-8" } } } }))).toContain("--lc-ctype=en_US.UTF-8")
  })
  test("pg_rewind failures: unreachable source vs impossible rewind", () => {
    expect(isSourceUnavailable('pg_rewind: error: connection to server at "10.0.0.1", port 5432 failed: Connection refused')).toBe(true)
    expect(isSourceUnavailable("pg_rewind: error: could not open file \"pg_wal/000000010000000000000003\": No such file or directory")).toBe(false)
  })
})

describe("restartToken", () => {
  const withAnnotation = (value: string | undefined): ClusterView => ({
    metadata: { name: "c", ...(value === undefined ? {} : { annotations: { [restartAnnotation]: value } }) },
    spec: {}
  })
  test("reads the token for one instance from a JSON object", () => {
    const view = withAnnotation(JSON.stringify({ "c-2": "2026-11-29T12:00:00Z" }))
    expect(restartToken(view, "c-2")).toBe("2026-11-29T12:00:00Z")
    expect(restartToken(view, "c-1")).toBeUndefined()
  })
  test("asks for nothing when absent or malformed", () => {
    expect(restartToken(withAnnotation(undefined), "c-1")).toBeUndefined()
    expect(restartToken(withAnnotation("c-1"), "c-1")).toBeUndefined()
    expect(restartToken(withAnnotation(JSON.stringify(["c-1"])), "c-1")).toBeUndefined()
    expect(restartToken(withAnnotation(JSON.stringify({ "c-1": 5 })), "c-1")).toBeUndefined()
  })
})
