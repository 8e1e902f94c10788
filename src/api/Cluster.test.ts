import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { parse } from "yaml"
import { Cluster } from "./Cluster.ts"
import { decodeStrict, type FieldError } from "./Validation.ts"

const decode = decodeStrict(Cluster)
const sample = parse(await Bun.file(new URL("../../manifests/samples/cluster-example.yaml", import.meta.url)).text())

const errorsOf = (input: unknown): ReadonlyArray<FieldError> => {
  const result = decode(input)
  if (Either.isRight(result)) throw new Error("expected the spec to be refused")
  return result.left
}

const withSpec = (patch: Record<string, unknown>) => ({ ...sample, spec: { ...sample.spec, ...patch } })

describe("Cluster", () => {
  test("the walkthrough manifest decodes with CloudNativePG's defaults", () => {
    const cluster = Either.getOrThrow(decode(sample))
    expect(cluster.metadata.name).toBe("mycluster")
    expect(cluster.spec.instances).toBe(3)
    expect(cluster.spec.storage).toEqual({ size: "3Gi", resizeInUseVolumes: true })
    expect(cluster.spec.postgresql.parameters).toEqual({ max_worker_processes: "40", timezone: "Asia/Seoul" })
    expect(cluster.spec.postgresql.pg_hba).toEqual(["host all postgres all trust"])
    expect(cluster.spec.bootstrap?.initdb).toEqual({
      database: "app",
      owner: "app",
      encoding: "UTF8",
      localeCType: "C",
      localeCollate: "C",
      dataChecksums: false,
    })
    expect(cluster.spec.enableSuperuserAccess).toBe(true)
    expect(cluster.spec.monitoring).toEqual({ enablePodMonitor: true, disableDefaultQueries: false })
    expect(cluster.spec.primaryUpdateStrategy).toBe("unsupervised")
    expect(cluster.spec.primaryUpdateMethod).toBe("restart")
    expect(cluster.spec.minSyncReplicas).toBe(0)
    expect(cluster.spec.maxSyncReplicas).toBe(0)
    expect(cluster.spec.failoverDelay).toBe(0)
    expect(cluster.spec.switchoverDelay).toBe(3600)
    expect(cluster.spec.startDelay).toBe(3600)
    expect(cluster.spec.stopDelay).toBe(1800)
    expect(cluster.spec.smartShutdownTimeout).toBe(180)
    expect(cluster.spec.enablePDB).toBe(true)
    expect(cluster.spec.logLevel).toBe("info")
    expect(cluster.spec.affinity).toEqual({ podAntiAffinityType: "preferred", topologyKey: "kubernetes.io/hostname" })
  })

  test("a minimal cluster gets one instance and empty postgresql settings", () => {
    const cluster = Either.getOrThrow(
      decode({ apiVersion: "postgresql.tusk.dev/v1", kind: "Cluster", metadata: { name: "m" }, spec: { storage: { size: "1Gi" } } }),
    )
    expect(cluster.spec.instances).toBe(1)
    expect(cluster.spec.postgresql).toEqual({})
    expect(cluster.spec.bootstrap).toBeUndefined()
  })

  const refusals: ReadonlyArray<[string, unknown, string, RegExp]> = [
    ["zero instances", withSpec({ instances: 0 }), "spec.instances", /greater than or equal to 1/],
    ["instances as a word", withSpec({ instances: "three" }), "spec.instances", /Expected number/],
    ["an unknown field", withSpec({ replicas: 3 }), "spec.replicas", /is unexpected/],
    ["a CloudNativePG field Tusk lacks", withSpec({ backup: {} }), "spec.backup", /is unexpected/],
    ["a size that is no quantity", withSpec({ storage: { size: "abc" } }), "spec.storage.size", /quantity/],
    ["a name over 63 characters", { ...sample, metadata: { name: "c".repeat(64) } }, "", /metadata\.name must be at most 50/],
    ["a name with capitals", { ...sample, metadata: { name: "MyCluster" } }, "", /metadata\.name must start with a letter/],
    [
      "a parameter Tusk manages",
      withSpec({ postgresql: { parameters: { port: "5433" } } }),
      "spec.postgresql.parameters",
      /managed by Tusk/,
    ],
    ["maxSyncReplicas not below instances", withSpec({ maxSyncReplicas: 3 }), "spec", /maxSyncReplicas must be lower/],
    ["a WAL segment size that is no power of two", withSpec({ bootstrap: { initdb: { walSegmentSize: 3 } } }), "spec.bootstrap.initdb.walSegmentSize", /Expected 1/],
    [
      "both synchronous styles",
      withSpec({ maxSyncReplicas: 1, postgresql: { synchronous: { method: "any", number: 1 } } }),
      "spec",
      /cannot be used together/,
    ],
  ]

  for (const [what, input, path, message] of refusals) {
    test(`refuses ${what}, naming the field`, () => {
      const errors = errorsOf(input)
      const hit = errors.find((e) => e.path === path && message.test(e.message))
      if (hit === undefined) throw new Error(`no error at "${path}" matching ${message}: ${JSON.stringify(errors)}`)
    })
  }
})
