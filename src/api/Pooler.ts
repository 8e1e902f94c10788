/**
 * `Pooler` of `postgresql.tusk.dev/v1`: a PgBouncer deployment in front of a Cluster's
 * -rw or -ro Service, with CloudNativePG's field names. The API is in place so manifests
 * move over unchanged; Tusk does not run poolers yet.
 */
import { Schema } from "effect"
import { apiVersion } from "./Cluster.ts"
import { optional, refusing, withDefault } from "./Fields.ts"
import { LocalObjectReference, ObjectMeta, Opaque } from "./Kubernetes.ts"

export const PgBouncerSpec = Schema.Struct({
  poolMode: withDefault(Schema.Literal("session", "transaction"), "session"),
  parameters: optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  pg_hba: optional(Schema.Array(Schema.String)),
  paused: withDefault(Schema.Boolean, false),
}).pipe(refusing({ authQuerySecret: "object", authQuery: "string" }))

export const PoolerSpec = Schema.Struct({
  cluster: LocalObjectReference,
  type: withDefault(Schema.Literal("rw", "ro", "r"), "rw"),
  instances: withDefault(Schema.Int.pipe(Schema.nonNegative()), 1),
  pgbouncer: PgBouncerSpec,
  template: optional(Opaque),
  serviceTemplate: optional(Opaque),
  deploymentStrategy: optional(Opaque),
  monitoring: optional(Schema.Struct({ enablePodMonitor: withDefault(Schema.Boolean, false) })),
})

export const PoolerStatus = Schema.Struct({
  instances: optional(Schema.Int),
  secrets: optional(Opaque),
})

export const Pooler = Schema.Struct({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal("Pooler"),
  metadata: ObjectMeta,
  spec: PoolerSpec,
  status: optional(PoolerStatus),
})
export type Pooler = typeof Pooler.Type
