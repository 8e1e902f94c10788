/**
 * The generated CRDs on a real API server: they are accepted as structural schemas, and
 * the server itself refuses bad Clusters with a message that names the field.
 */
import { beforeAll, describe, expect, test } from "bun:test"
import { parse } from "yaml"
import { localKube, type LocalKubeHandle, startTimeoutMs } from "../localkube/harness.ts"

let lk: LocalKubeHandle
const sample = parse(await Bun.file(new URL("../../manifests/samples/cluster-example.yaml", import.meta.url)).text())

beforeAll(async () => {
  lk = await localKube()
  await lk.kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=tusk-tests", "-k", `${process.cwd()}/manifests/crd`])
  await lk.kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/clusters.postgresql.tusk.dev"])
}, startTimeoutMs)

/** A server-side dry run; resolves with kubectl's stderr when the server refuses. */
const dryRun = async (object: object): Promise<{ ok: boolean; output: string }> => {
  const result = await lk.exec(["kubectl", "apply", "--server-side", "--dry-run=server", "-f", "-"], {
    stdin: JSON.stringify(object),
  })
  return { ok: result.exitCode === 0, output: `${result.stdout}${result.stderr}` }
}

const withSpec = (patch: Record<string, unknown>) => ({ ...sample, spec: { ...sample.spec, ...patch } })

describe("CRDs on the API server", () => {
  test("all four kinds are established with their printer columns", async () => {
    const names = (await lk.kubectl(["get", "crd", "-o", "name"])).split("\n").filter((n) => n.includes("tusk.dev"))
    expect(names.sort()).toEqual([
      "customresourcedefinition.apiextensions.k8s.io/backups.postgresql.tusk.dev",
      "customresourcedefinition.apiextensions.k8s.io/clusters.postgresql.tusk.dev",
      "customresourcedefinition.apiextensions.k8s.io/poolers.postgresql.tusk.dev",
      "customresourcedefinition.apiextensions.k8s.io/scheduledbackups.postgresql.tusk.dev",
    ])
  })

  test("the walkthrough manifest is accepted and defaulted by the server", async () => {
    const result = await lk.exec(["kubectl", "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-"], {
      stdin: JSON.stringify(sample),
    })
    expect(result.exitCode).toBe(0)
    const stored = JSON.parse(result.stdout)
    expect(stored.spec).toMatchObject({
      instances: 3,
      primaryUpdateMethod: "restart",
      switchoverDelay: 3600,
      enablePDB: true,
      logLevel: "info",
      storage: { size: "3Gi", resizeInUseVolumes: true },
      affinity: { podAntiAffinityType: "preferred", topologyKey: "kubernetes.io/hostname" },
    })
  })

  const refusals: ReadonlyArray<[string, object, RegExp]> = [
    ["zero instances", withSpec({ instances: 0 }), /spec\.instances: Invalid value: 0: spec\.instances in body should be greater than or equal to 1/],
    ["instances as a word", withSpec({ instances: "three" }), /\.spec\.instances: expected numeric \(int or float\), got string/],
    ["an unknown field", withSpec({ replicas: 3 }), /\.spec\.replicas: field not declared in schema/],
    ["a CloudNativePG field Tusk lacks", withSpec({ backup: { retentionPolicy: "30d" } }), /spec\.backup: Forbidden: backup is a CloudNativePG field that Tusk does not support/],
    ["a size that is no quantity", withSpec({ storage: { size: "abc" } }), /spec\.storage\.size: Invalid value: "abc"/],
    ["a name over 63 characters", { ...sample, metadata: { name: "c".repeat(64) } }, /metadata\.name must be at most 50 characters/],
    ["a parameter Tusk manages", withSpec({ postgresql: { parameters: { port: "5433" } } }), /spec\.postgresql\.parameters: Invalid value: parameter port is managed by Tusk and cannot be set/],
    ["maxSyncReplicas not below instances", withSpec({ maxSyncReplicas: 3 }), /spec\.maxSyncReplicas: Invalid value: maxSyncReplicas must be lower than instances/],
  ]

  for (const [what, object, message] of refusals) {
    test(`refuses ${what}, naming the field`, async () => {
      const { ok, output } = await dryRun(object)
      expect(ok).toBe(false)
      expect(output).toMatch(message)
    })
  }

  test("bootstrap cannot change after creation", async () => {
    const name = `immutable-${process.pid}`
    const original = { ...sample, metadata: { name, namespace: "default" } }
    await lk.kubectl(["apply", "--server-side", "-f", "-"], { stdin: JSON.stringify(original) })
    try {
      const changed = { ...original, spec: { ...original.spec, bootstrap: { initdb: { database: "other" } } } }
      const { ok, output } = await dryRun(changed)
      expect(ok).toBe(false)
      expect(output).toMatch(/spec\.bootstrap: Invalid value: bootstrap cannot be changed after the cluster is created/)
    } finally {
      await lk.kubectl(["delete", "cluster", name, "-n", "default", "--wait=false"])
    }
  })
})
