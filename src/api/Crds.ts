/**
 * The CustomResourceDefinitions of `postgresql.tusk.dev`, generated from the Schemas.
 * Pure: returns objects and YAML text; `scripts/generate.ts` writes them to manifests/crd.
 */
import type { Schema } from "effect"
import { stringify } from "yaml"
import { Backup, ScheduledBackup } from "./Backup.ts"
import { Cluster, group, version } from "./Cluster.ts"
import { type JSONSchemaProps, toOpenApi } from "./OpenApi.ts"
import { Pooler } from "./Pooler.ts"

interface PrinterColumn {
  readonly name: string
  readonly type: "string" | "integer" | "date"
  readonly jsonPath: string
  readonly description?: string
  readonly priority?: number
}

interface KindDefinition {
  readonly kind: string
  readonly plural: string
  readonly shortNames: ReadonlyArray<string>
  readonly schema: Schema.Schema.Any
  readonly description: string
  readonly columns: ReadonlyArray<PrinterColumn>
  readonly scale?: { readonly specReplicasPath: string; readonly statusReplicasPath: string }
}

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }

/** Every kind Tusk serves, with how kubectl shows it. */
export const kinds: ReadonlyArray<KindDefinition> = [
  {
    kind: "Cluster",
    plural: "clusters",
    shortNames: ["tc"],
    schema: Cluster,
    description: "A highly available PostgreSQL cluster: one primary and streaming replicas.",
    columns: [
      age,
      { name: "Instances", type: "integer", jsonPath: ".status.instances", description: "Number of instances" },
      { name: "Ready", type: "integer", jsonPath: ".status.readyInstances", description: "Number of ready instances" },
      { name: "Status", type: "string", jsonPath: ".status.phase", description: "Cluster phase" },
      { name: "Primary", type: "string", jsonPath: ".status.currentPrimary", description: "Primary instance" },
    ],
    scale: { specReplicasPath: ".spec.instances", statusReplicasPath: ".status.instances" },
  },
  {
    kind: "Backup",
    plural: "backups",
    shortNames: ["tbk"],
    schema: Backup,
    description: "A request for a backup of a Cluster.",
    columns: [
      age,
      { name: "Cluster", type: "string", jsonPath: ".spec.cluster.name" },
      { name: "Method", type: "string", jsonPath: ".spec.method" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Error", type: "string", jsonPath: ".status.error" },
    ],
  },
  {
    kind: "ScheduledBackup",
    plural: "scheduledbackups",
    shortNames: ["tsb"],
    schema: ScheduledBackup,
    description: "Backups of a Cluster taken on a schedule.",
    columns: [
      age,
      { name: "Cluster", type: "string", jsonPath: ".spec.cluster.name" },
      { name: "Last Backup", type: "date", jsonPath: ".status.lastScheduleTime" },
    ],
  },
  {
    kind: "Pooler",
    plural: "poolers",
    shortNames: ["tpl"],
    schema: Pooler,
    description: "A PgBouncer connection pooler in front of a Cluster.",
    columns: [
      age,
      { name: "Cluster", type: "string", jsonPath: ".spec.cluster.name" },
      { name: "Type", type: "string", jsonPath: ".spec.type" },
    ],
  },
]

/** The API server allows no constraints on apiVersion, kind and metadata at the root. */
const rootSchema = (def: KindDefinition): JSONSchemaProps => {
  const walked = toOpenApi(def.schema.ast)
  return {
    ...walked,
    description: def.description,
    properties: {
      ...walked.properties,
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
    },
    required: ["metadata", "spec"],
  }
}

/** The CustomResourceDefinition of one kind. */
export const customResourceDefinition = (def: KindDefinition) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: {
    name: `${def.plural}.${group}`,
    labels: { "app.kubernetes.io/name": "tusk", "app.kubernetes.io/part-of": "tusk" },
  },
  spec: {
    group,
    names: {
      kind: def.kind,
      listKind: `${def.kind}List`,
      plural: def.plural,
      singular: def.kind.toLowerCase(),
      shortNames: def.shortNames,
      categories: ["tusk", "postgresql"],
    },
    scope: "Namespaced",
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: rootSchema(def) },
        subresources: { status: {}, ...(def.scale !== undefined ? { scale: def.scale } : {}) },
        additionalPrinterColumns: def.columns,
      },
    ],
  },
})

const header = "# Generated from src/api by `npm run generate`. Do not edit by hand.\n"

/** File name and YAML text of every CRD, as committed under manifests/crd. */
export const renderCrds = (): ReadonlyArray<{ readonly file: string; readonly yaml: string }> =>
  kinds.map((def) => ({
    file: `${group}_${def.plural}.yaml`,
    yaml: header + stringify(customResourceDefinition(def), { lineWidth: 0 }),
  }))
