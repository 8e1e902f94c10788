import { describe, expect, test } from "bun:test"
import { conninfo, slotNameFor, streamingReplicaConninfo } from "./Conninfo.ts"
import { isOwnedParameter, ownedParameterNames } from "./FixedParameters.ts"
import { renderPgHba, renderPgIdent } from "./PgHba.ts"
import { parameters, quoteConfValue, refusedParameters, renderPostgresqlConf } from "./PostgresqlConf.ts"

const location = { clusterName: "c", port: 5432, listenAddresses: "*", socketDir: "/controller/run", certDir: "/controller/certificates" }

describe("postgresql.conf", () => {
  test("owned parameters are refused, case-insensitively; others pass", () => {
    expect(refusedParameters({ max_worker_processes: "40", Port: "1", wal_level: "minimal", timezone: "UTC" })).toEqual(["Port", "wal_level"])
    expect(isOwnedParameter("synchronous_standby_names")).toBe(true)
    expect(isOwnedParameter("work_mem")).toBe(false)
    expect(new Set(ownedParameterNames).size).toBe(ownedParameterNames.length)
  })
  test("user parameters apply, fixed settings win, defaults yield to the user", () => {
    const p = parameters({
      location,
      userParameters: { max_worker_processes: "40", timezone: "Asia/Seoul", wal_level: "minimal", wal_sender_timeout: "9s" },
      synchronousStandbyNames: "",
      primaryConninfo: "",
      primarySlotName: ""
    })
    expect(p["max_worker_processes"]).toBe("40")
    expect(p["timezone"]).toBe("Asia/Seoul")
    expect(p["wal_level"]).toBe("logical")
    expect(p["wal_sender_timeout"]).toBe("9s")
    expect(p["ssl_min_protocol_version"]).toBe("TLSv1.3")
    expect(p["ssl_cert_file"]).toBe("/controller/certificates/server.crt")
  })
  test("values are quoted for the conf syntax", () => {
    expect(quoteConfValue("it's a \\ test")).toBe("'it''s a \\\\ test'")
    const text = renderPostgresqlConf({ location, userParameters: { search_path: "\"$user\", public" }, synchronousStandbyNames: 'ANY 1 ("c-2")', primaryConninfo: "host=x", primarySlotName: "_tusk_c_1" })
    expect(text).toContain(`search_path = '"$user", public'`)
    expect(text).toContain(`synchronous_standby_names = 'ANY 1 ("c-2")'`)
    expect(text).toContain("primary_slot_name = '_tusk_c_1'")
  })
})

describe("conninfo", () => {
  test("quotes values with spaces, quotes and backslashes", () => {
    expect(conninfo({ host: "h", port: 5432, application_name: "a b", password: "x'y\\z", skip: undefined })).toBe(
      "host=h port=5432 application_name='a b' password='x\\'y\\\\z'"
    )
  })
  test("streaming replica uses verify-ca and the client certificate", () => {
    const s = streamingReplicaConninfo({ host: "c-rw", port: 5432 }, "/certs", { application_name: "c-2" })
    expect(s).toContain("user=streaming_replica")
    expect(s).toContain("sslmode=verify-ca")
    expect(s).toContain("sslcert=/certs/streaming_replica.crt")
    expect(s).toContain("application_name=c-2")
  })
  test("slot names are valid identifiers", () => {
    expect(slotNameFor("My-Cluster-12")).toBe("_tusk_my_cluster_12")
  })
})

describe("pg_hba / pg_ident", () => {
  test("fixed rules, then the user's, then SCRAM", () => {
    const lines = renderPgHba(["host all postgres all trust"]).split("\n").filter((l) => l !== "" && !l.startsWith("#"))
    expect(lines).toEqual([
      "local all all peer map=local",
      "hostssl postgres streaming_replica all cert",
      "hostssl replication streaming_replica all cert",
      "host all postgres all trust",
      "host all all all scram-sha-256"
    ])
  })
  test("the OS user maps to postgres", () => {
    expect(renderPgIdent("postgres", ["m u v"])).toContain("local postgres postgres\n# spec.postgresql.pg_ident\nm u v")
  })
})
