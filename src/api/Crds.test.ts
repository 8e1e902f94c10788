import { describe, expect, test } from "bun:test"
import { parse } from "yaml"
import { customResourceDefinition, kinds, renderCrds } from "./Crds.ts"
import { renderDefaultMonitoring } from "./DefaultMonitoring.ts"
import type { JSONSchemaProps } from "./OpenApi.ts"

const crdDir = new URL("../../manifests/crd/", import.meta.url)

/** Every node of a schema with its path, to check structural rules everywhere. */
const nodes = function* (schema: JSONSchemaProps, path = ""): Generator<[string, JSONSchemaProps]> {
  yield [path, schema]
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${path}.${name}`)
  if (schema.items !== undefined) yield* nodes(schema.items, `${path}[]`)
  if (schema.additionalProperties !== undefined) yield* nodes(schema.additionalProperties, `${path}{}`)
}

describe("generated CRDs", () => {
  test("the committed YAML is what the Schemas generate (run `npm run generate`)", async () => {
    for (const { file, yaml } of renderCrds()) {
      expect(await Bun.file(new URL(file, crdDir)).text()).toBe(yaml)
    }
  })

  test("the committed default monitoring ConfigMap carries the built-in queries", async () => {
    const committed = await Bun.file(new URL("../../manifests/default/default-monitoring.yaml", import.meta.url)).text()
    expect(committed).toBe(renderDefaultMonitoring())
    expect(parse(committed).data.queries).toContain("query:")
  })

  for (const def of kinds) {
    test(`${def.kind} is a structural schema`, () => {
      const crd = customResourceDefinition(def)
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema
      for (const [path, node] of nodes(root)) {
        const typed =
          node.type !== undefined ||
          node["x-kubernetes-int-or-string"] === true ||
          node["x-kubernetes-preserve-unknown-fields"] === true
        if (!typed) throw new Error(`${def.kind}${path} has no type`)
        expect(JSON.stringify(node)).not.toContain("$ref")
        if (node.properties !== undefined) expect(node.additionalProperties).toBeUndefined()
      }
    })
  }

  test("Cluster has the printer columns, subresources and names users expect", () => {
    const crd = parse(renderCrds().find((c) => c.file.endsWith("_clusters.yaml"))!.yaml)
    const v1 = crd.spec.versions[0]
    expect(crd.metadata.name).toBe("clusters.postgresql.tusk.dev")
    expect(v1.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      "Age",
      "Instances",
      "Ready",
      "Status",
      "Primary",
    ])
    expect(v1.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: ".spec.instances", statusReplicasPath: ".status.instances" },
    })
    expect(crd.spec.names.shortNames).toEqual(["tc"])
    expect(crd.spec.names.categories).toContain("tusk")
  })

  test("CloudNativePG fields Tusk lacks are refused by name, not pruned", () => {
    const crd = customResourceDefinition(kinds[0]!)
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!
    expect(spec.properties!.backup).toEqual({ type: "object", "x-kubernetes-preserve-unknown-fields": true })
    expect(spec["x-kubernetes-validations"]).toContainEqual({
      rule: "!has(self.backup)",
      message: "backup is a CloudNativePG field that Tusk does not support",
      fieldPath: ".backup",
      reason: "FieldValueForbidden",
    })
  })
})
