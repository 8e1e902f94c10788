/**
 * What the instance manager reads from its Cluster: a narrow, decoded view of the
 * CloudNativePG-compatible `Cluster` object (v1 field names). Fields the instance does
 * not act on are ignored, so the full Cluster (from the API server or a file) decodes here.
 */
import { Schema } from "effect"
import { annotations, isFencedBy, names, restartTokensOf } from "../api/Naming.ts"

/** `spec.postgresql.synchronous`. */
export const SynchronousSpec = Schema.Struct({
  method: Schema.Literal("any", "first"),
  number: Schema.Number,
  dataDurability: Schema.optional(Schema.Literal("required", "preferred"))
})
export type SynchronousSpec = typeof SynchronousSpec.Type

const SecretRef = Schema.Struct({ name: Schema.String })
const KeyRef = Schema.Struct({ name: Schema.String, key: Schema.String })

/** `spec.bootstrap.initdb`. */
export const InitdbSpec = Schema.Struct({
  database: Schema.optional(Schema.String),
  owner: Schema.optional(Schema.String),
  secret: Schema.optional(SecretRef),
  encoding: Schema.optional(Schema.String),
  locale: Schema.optional(Schema.String),
  localeCType: Schema.optional(Schema.String),
  localeCollate: Schema.optional(Schema.String),
  dataChecksums: Schema.optional(Schema.Boolean),
  walSegmentSize: Schema.optional(Schema.Number),
  postInitSQL: Schema.optional(Schema.Array(Schema.String)),
  postInitApplicationSQL: Schema.optional(Schema.Array(Schema.String)),
  postInitTemplateSQL: Schema.optional(Schema.Array(Schema.String))
})
export type InitdbSpec = typeof InitdbSpec.Type

/** The part of a Cluster the instance manager acts on. */
export const ClusterView = Schema.Struct({
  metadata: Schema.Struct({
    name: Schema.String,
    namespace: Schema.optional(Schema.String),
    annotations: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
  }),
  spec: Schema.Struct({
    postgresql: Schema.optional(Schema.Struct({
      parameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
      pg_hba: Schema.optional(Schema.Array(Schema.String)),
      pg_ident: Schema.optional(Schema.Array(Schema.String)),
      shared_preload_libraries: Schema.optional(Schema.Array(Schema.String)),
      synchronous: Schema.optional(SynchronousSpec)
    })),
    minSyncReplicas: Schema.optional(Schema.Number),
    maxSyncReplicas: Schema.optional(Schema.Number),
    bootstrap: Schema.optional(Schema.Struct({ initdb: Schema.optional(InitdbSpec) })),
    superuserSecret: Schema.optional(SecretRef),
    enableSuperuserAccess: Schema.optional(Schema.Boolean),
    smartShutdownTimeout: Schema.optional(Schema.Number),
    stopDelay: Schema.optional(Schema.Number),
    monitoring: Schema.optional(Schema.Struct({
      disableDefaultQueries: Schema.optional(Schema.Boolean),
      customQueriesConfigMap: Schema.optional(Schema.Array(KeyRef)),
      customQueriesSecret: Schema.optional(Schema.Array(KeyRef))
    }))
  }),
  status: Schema.optional(Schema.Struct({
    currentPrimary: Schema.optional(Schema.String),
    targetPrimary: Schema.optional(Schema.String),
    formerPrimaryStopped: Schema.optional(Schema.String),
    instanceNames: Schema.optional(Schema.Array(Schema.String))
  }))
})
export type ClusterView = typeof ClusterView.Type

/** Whether `instance` is fenced by the Cluster's fencing annotation (names comma separated, a JSON array, or `*`). */
export const isFenced = (view: ClusterView, instance: string): boolean =>
  isFencedBy(view.metadata.annotations?.[annotations.fencedInstances], instance)

/** The instance every other one should follow: the target primary while set, else the current one. */
export const leader = (view: ClusterView): string | undefined =>
  view.status?.targetPrimary ?? view.status?.currentPrimary

/** Names of the Secrets the instance reads, with CloudNativePG's defaults. */
export const secretNames = (view: ClusterView) => {
  const n = names(view.metadata.name)
  return {
    superuser: view.spec.superuserSecret?.name ?? n.superuserSecret,
    app: view.spec.bootstrap?.initdb?.secret?.name ?? n.appSecret,
    ca: n.caSecret,
    server: n.serverSecret,
    replication: n.replicationSecret
  }
}

/** Whether the superuser gets a password (from its Secret) at all. */
export const superuserHasPassword = (view: ClusterView): boolean =>
  view.spec.enableSuperuserAccess === true || view.spec.superuserSecret !== undefined

/** Seconds: CloudNativePG's defaults for smart shutdown and the total stop budget. */
export const shutdownBudget = (view: ClusterView) => ({
  smartSeconds: view.spec.smartShutdownTimeout ?? 180,
  stopSeconds: view.spec.stopDelay ?? 1800
})

/**
 * In-place restarts on request: the Cluster annotation `tusk.dev/restartInstances` holds a
 * JSON object of instance name -> token (e.g. a timestamp). An instance restarts PostgreSQL
 * when the token for it differs from the one it last acted on (a new pod takes the token it
 * starts with as done) and reports the token as `restartedFor` in /pg/status.
 */
export const restartAnnotation = annotations.restartInstances

/** The restart token for `instance`, if any (a malformed annotation asks for nothing). */
export const restartToken = (view: ClusterView, instance: string): string | undefined =>
  restartTokensOf(view.metadata.annotations?.[restartAnnotation])[instance]
