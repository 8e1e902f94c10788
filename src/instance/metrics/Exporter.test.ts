import { describe, expect, test } from "bun:test"
import { toFamilies } from "./Exporter.ts"
import { render, sanitizeName, toNumber } from "./Prometheus.ts"
import { defaultQueriesText, parseQueries } from "./Queries.ts"

describe("queries", () => {
  test("the built-in default queries all decode", () => {
    const set = parseQueries("default", defaultQueriesText)
    expect(set.errors).toEqual([])
    expect(set.queries.map(([n]) => n)).toEqual(expect.arrayContaining(["backends", "pg_database", "pg_replication", "pg_stat_replication", "pg_stat_wal", "pg_stat_archiver", "pg_stat_bgwriter", "pg_stat_database", "pg_settings"]))
  })
  test("a bad entry is an error and the others still decode", () => {
    const set = parseQueries("cm/key", "ok:\n  query: select 1 as one\n  metrics:\n    - one: { usage: GAUGE }\nbroken:\n  metrics: []\n")
    expect(set.queries.map(([n]) => n)).toEqual(["ok"])
    expect(set.errors).toHaveLength(1)
    expect(set.errors[0]).toStartWith("cm/key: query broken")
    expect(parseQueries("x", "::: not yaml [").errors).toHaveLength(1)
  })
})

describe("Prometheus text", () => {
  test("rows become labelled samples; non-numeric and null values are skipped", () => {
    const spec = { query: "", metrics: [{ datname: { usage: "LABEL" as const } }, { size: { usage: "GAUGE" as const, description: "Size" } }, { n: { usage: "COUNTER" as const } }, { x: { usage: "DISCARD" as const } }] }
    const families = toFamilies("db", spec, [{ datname: "app", size: "8192", n: 3, x: 1 }, { datname: 'we"ird', size: null, n: "abc" }])
    expect(render(families)).toBe([
      "# HELP tusk_db_size Size",
      "# TYPE tusk_db_size gauge",
      'tusk_db_size{datname="app"} 8192',
      "# HELP tusk_db_n n",
      "# TYPE tusk_db_n counter",
      'tusk_db_n{datname="app"} 3',
      ""
    ].join("\n"))
  })
  test("label values and names are escaped", () => {
    const text = render([{ name: "m", help: "h\nx", type: "gauge", samples: [{ labels: { "a-b": 'q"\\\n' }, value: 1 }] }])
    expect(text).toContain('m{a_b="q\\"\\\\\\n"} 1')
    expect(text).toContain("# HELP m h\\nx")
    expect(sanitizeName("1x.y")).toBe("_1x_y")
  })
  test("numbers from SQL values", () => {
    expect(toNumber("12.5")).toBe(12.5)
    expect(toNumber(true)).toBe(1)
    expect(toNumber(7n)).toBe(7)
    expect(toNumber("x")).toBeUndefined()
    expect(toNumber(null)).toBeUndefined()
  })
})
