/**
 * The `Cluster` kind of `postgresql.tusk.dev/v1`: CloudNativePG's v1 field names,
 * defaults and meanings for every field Tusk supports. CloudNativePG fields that Tusk
 * does not implement are listed with `refusing`, so the API server names them in its
 * refusal instead of pruning them.
 */
import { Schema } from "effect"
import { DocId, rule, serverRules } from "./Annotations.ts"
import { defaultedStruct, optional, refusing, withDefault } from "./Fields.ts"
import {
  Condition,
  EnvVar,
  KeySelector,
  LocalObjectReference,
  ObjectMeta,
  Opaque,
  QuantityString,
  ResourceRequirements,
  StringMap,
} from "./Kubernetes.ts"
import { isManagedParameter, managedParameters } from "./ManagedParameters.ts"

export const group = "postgresql.tusk.dev"
export const version = "v1"
export const apiVersion = `${group}/${version}`

const celList = (items: ReadonlyArray<string>) => `[${items.map((i) => `'${i}'`).join(", ")}]`

/** Seconds, as CloudNativePG's delay and timeout fields count them. */
const Seconds = Schema.Int.pipe(Schema.nonNegative())

/** Storage for PGDATA or WAL: a size (and class) or a full PVC template. */
export const StorageConfiguration = Schema.Struct({
  size: optional(
    QuantityString.annotations({ [DocId]: "Size of the volume, e.g. 10Gi. Required unless pvcTemplate sets it." }),
  ),
  storageClass: optional(
    Schema.String.annotations({ [DocId]: "StorageClass of the volume; the cluster default when absent." }),
  ),
  resizeInUseVolumes: withDefault(
    Schema.Boolean.annotations({ [DocId]: "Grow bound volumes in place when size grows." }),
    true,
  ),
  pvcTemplate: optional(Opaque.annotations({ [DocId]: "A PersistentVolumeClaim spec used as the template." })),
}).pipe(
  rule((s) => s.size !== undefined || s.pvcTemplate !== undefined, {
    rule: "has(self.size) || has(self.pvcTemplate)",
    message: "size is required unless pvcTemplate is given",
    fieldPath: ".size",
  }),
)
export type StorageConfiguration = typeof StorageConfiguration.Type

/** `postgresql.synchronous`: quorum- or priority-based synchronous replication. */
export const SynchronousReplicaConfiguration = Schema.Struct({
  method: Schema.Literal("any", "first").annotations({
    [DocId]: "any: quorum (ANY n), first: priority (FIRST n).",
  }),
  number: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({
    [DocId]: "Number of synchronous standbys that must confirm each commit.",
  }),
  dataDurability: withDefault(
    Schema.Literal("required", "preferred").annotations({
      [DocId]:
        "required: commits wait for the standbys even when too few are available; preferred: synchronous only while enough standbys are healthy.",
    }),
    "required",
  ),
}).pipe(refusing({ maxStandbyNamesFromCluster: "integer", standbyNamesPre: "stringArray", standbyNamesPost: "stringArray", failoverQuorum: "boolean" }))

/** `spec.postgresql`: parameters and access rules. */
export const PostgresConfiguration = Schema.Struct({
  parameters: optional(
    Schema.Record({ key: Schema.String, value: Schema.String })
      .annotations({ [DocId]: "postgresql.conf parameters. Parameters Tusk manages are refused." })
      .pipe(
        Schema.annotations({ jsonSchema: { maxProperties: 300 } }),
        rule((p) => Object.keys(p).every((k) => !isManagedParameter(k)), {
          rule: `self.all(k, !(k.lowerAscii() in ${celList(managedParameters)}))`,
          message: "a parameter managed by Tusk cannot be set",
          messageExpression: `'parameter ' + self.filter(k, k.lowerAscii() in ${celList(managedParameters)})[0] + ' is managed by Tusk and cannot be set'`,
        }),
      ),
  ),
  pg_hba: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "pg_hba.conf lines, placed after Tusk's own rules." }),
  ),
  pg_ident: optional(Schema.Array(Schema.String).annotations({ [DocId]: "pg_ident.conf lines." })),
  shared_preload_libraries: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "Libraries added to shared_preload_libraries." }),
  ),
  synchronous: optional(SynchronousReplicaConfiguration),
}).pipe(
  refusing({
    ldap: "object",
    promotionTimeout: "integer",
    enableAlterSystem: "boolean",
    syncReplicaElectionConstraint: "object",
    extensions: "array",
  }),
)

/** `bootstrap.initdb`: create a new cluster from scratch. */
export const BootstrapInitDB = Schema.Struct({
  database: withDefault(Schema.String.annotations({ [DocId]: "Application database to create." }), "app"),
  owner: optional(
    Schema.String.annotations({ [DocId]: "Owner of the application database; the database name when absent." }),
  ),
  secret: optional(
    LocalObjectReference.annotations({
      [DocId]: "basic-auth Secret with the owner's password; generated when absent.",
    }),
  ),
  encoding: withDefault(Schema.String, "UTF8"),
  locale: optional(Schema.String.annotations({ [DocId]: "Sets LC_COLLATE and LC_CTYPE together." })),
  localeCType: withDefault(Schema.String, "C"),
  localeCollate: withDefault(Schema.String, "C"),
  dataChecksums: withDefault(Schema.Boolean, false),
  walSegmentSize: optional(
    Schema.Literal(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024).annotations({
      [DocId]: "WAL segment size in megabytes (a power of two, 1 to 1024).",
    }),
  ),
  postInitSQL: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "SQL run as superuser in `postgres` after initdb." }),
  ),
  postInitApplicationSQL: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "SQL run as superuser in the application database." }),
  ),
  postInitTemplateSQL: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "SQL run as superuser in template1." }),
  ),
}).pipe(
  refusing({
    options: "stringArray",
    localeProvider: "string",
    icuLocale: "string",
    icuRules: "string",
    builtinLocale: "string",
    import: "object",
    postInitSQLRefs: "object",
    postInitApplicationSQLRefs: "object",
    postInitTemplateSQLRefs: "object",
  }),
)
export type BootstrapInitDB = typeof BootstrapInitDB.Type

export const Bootstrap = Schema.Struct({
  initdb: optional(BootstrapInitDB),
}).pipe(refusing({ recovery: "object", pg_basebackup: "object" }))

export const AffinityConfiguration = Schema.Struct({
  enablePodAntiAffinity: optional(
    Schema.Boolean.annotations({ [DocId]: "Spread instances with pod anti-affinity (on unless false)." }),
  ),
  podAntiAffinityType: withDefault(
    Schema.Literal("preferred", "required").annotations({
      [DocId]: "preferred: spread when possible; required: never two instances per topology domain.",
    }),
    "preferred",
  ),
  topologyKey: withDefault(Schema.String, "kubernetes.io/hostname"),
  nodeSelector: optional(StringMap),
  tolerations: optional(Schema.Array(Opaque)),
}).pipe(refusing({ nodeAffinity: "object", additionalPodAffinity: "object", additionalPodAntiAffinity: "object" }))

/** `spec.certificates`: Tusk issues every certificate itself; extra server names may be added. */
export const CertificatesConfiguration = Schema.Struct({
  serverAltDNSNames: optional(
    Schema.Array(Schema.String).annotations({ [DocId]: "Extra DNS names in the server certificate." }),
  ),
}).pipe(refusing({ serverCASecret: "string", serverTLSSecret: "string", replicationTLSSecret: "string", clientCASecret: "string" }))

export const MonitoringConfiguration = Schema.Struct({
  disableDefaultQueries: withDefault(Schema.Boolean, false),
  customQueriesConfigMap: optional(Schema.Array(KeySelector)),
  customQueriesSecret: optional(Schema.Array(KeySelector)),
  enablePodMonitor: withDefault(Schema.Boolean, false),
}).pipe(refusing({ podMonitorMetricRelabelings: "array", podMonitorRelabelings: "array", tls: "object" }))

export const EmbeddedObjectMetadata = Schema.Struct({
  labels: optional(StringMap),
  annotations: optional(StringMap),
})

/** CloudNativePG top-level fields that Tusk does not implement. */
const refusedClusterFields = {
  imageCatalogRef: "object",
  schedulerName: "string",
  postgresUID: "integer",
  postgresGID: "integer",
  replicationSlots: "object",
  replica: "object",
  imagePullSecrets: "array",
  serviceAccountTemplate: "object",
  ephemeralVolumeSource: "object",
  livenessProbeTimeout: "integer",
  topologySpreadConstraints: "array",
  ephemeralVolumesSizeLimit: "object",
  priorityClassName: "string",
  backup: "object",
  nodeMaintenanceWindow: "object",
  externalClusters: "array",
  projectedVolumeTemplate: "object",
  envFrom: "array",
  managed: "object",
  seccompProfile: "object",
  tablespaces: "array",
  plugins: "array",
  probes: "object",
  podSecurityContext: "object",
  securityContext: "object",
} as const

export const ClusterSpec = Schema.Struct({
  description: optional(Schema.String),
  inheritedMetadata: optional(
    EmbeddedObjectMetadata.annotations({ [DocId]: "Labels and annotations copied to every object Tusk creates." }),
  ),
  imageName: optional(
    Schema.String.annotations({ [DocId]: "PostgreSQL container image; the operator's default when absent." }),
  ),
  imagePullPolicy: optional(Schema.Literal("Always", "Never", "IfNotPresent")),
  instances: withDefault(
    Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({
      [DocId]: "Number of instances: one primary, the rest streaming replicas.",
    }),
    1,
  ),
  minSyncReplicas: withDefault(Schema.Int.pipe(Schema.nonNegative()), 0),
  maxSyncReplicas: withDefault(Schema.Int.pipe(Schema.nonNegative()), 0),
  postgresql: defaultedStruct(PostgresConfiguration),
  bootstrap: optional(Bootstrap),
  superuserSecret: optional(
    LocalObjectReference.annotations({ [DocId]: "basic-auth Secret with the postgres password." }),
  ),
  enableSuperuserAccess: withDefault(
    Schema.Boolean.annotations({ [DocId]: "Create the -superuser Secret and allow postgres to log in." }),
    false,
  ),
  certificates: optional(CertificatesConfiguration),
  storage: StorageConfiguration,
  walStorage: optional(StorageConfiguration),
  startDelay: withDefault(
    Seconds.annotations({ [DocId]: "Seconds an instance may take to start before it counts as failed." }),
    3600,
  ),
  stopDelay: withDefault(
    Seconds.annotations({ [DocId]: "Seconds PostgreSQL gets to stop (pod termination grace period)." }),
    1800,
  ),
  smartShutdownTimeout: withDefault(
    Seconds.annotations({ [DocId]: "Seconds of smart shutdown before a fast shutdown." }),
    180,
  ),
  switchoverDelay: withDefault(
    Seconds.annotations({ [DocId]: "Seconds the old primary gets to shut down cleanly in a switchover." }),
    3600,
  ),
  failoverDelay: withDefault(
    Seconds.annotations({ [DocId]: "Seconds to wait before failing over an unhealthy primary." }),
    0,
  ),
  affinity: defaultedStruct(AffinityConfiguration),
  resources: optional(ResourceRequirements),
  primaryUpdateStrategy: withDefault(
    Schema.Literal("unsupervised", "supervised").annotations({
      [DocId]: "unsupervised: Tusk updates the primary itself; supervised: it waits for the user.",
    }),
    "unsupervised",
  ),
  primaryUpdateMethod: withDefault(
    Schema.Literal("switchover", "restart").annotations({
      [DocId]: "How an unsupervised update reaches the primary.",
    }),
    "restart",
  ),
  monitoring: optional(MonitoringConfiguration),
  env: optional(Schema.Array(EnvVar)),
  enablePDB: withDefault(
    Schema.Boolean.annotations({ [DocId]: "Create PodDisruptionBudgets for the instances." }),
    true,
  ),
  logLevel: withDefault(Schema.Literal("error", "warning", "info", "debug", "trace"), "info"),
}).pipe(
  refusing(refusedClusterFields),
  rule((s) => s.maxSyncReplicas < s.instances, {
    rule: "!has(self.maxSyncReplicas) || self.maxSyncReplicas < self.instances",
    message: "maxSyncReplicas must be lower than instances",
    fieldPath: ".maxSyncReplicas",
  }),
  rule((s) => s.minSyncReplicas <= s.maxSyncReplicas, {
    rule: "!has(self.minSyncReplicas) || self.minSyncReplicas <= (has(self.maxSyncReplicas) ? self.maxSyncReplicas : 0)",
    message: "minSyncReplicas must not exceed maxSyncReplicas",
    fieldPath: ".minSyncReplicas",
  }),
  rule((s) => s.postgresql.synchronous === undefined || s.maxSyncReplicas === 0, {
    rule: "!has(self.postgresql) || !has(self.postgresql.synchronous) || !has(self.maxSyncReplicas) || self.maxSyncReplicas == 0",
    message: "postgresql.synchronous and minSyncReplicas/maxSyncReplicas cannot be used together",
    fieldPath: ".postgresql.synchronous",
  }),
  rule((s) => s.postgresql.synchronous === undefined || s.postgresql.synchronous.number < s.instances, {
    rule: "!has(self.postgresql) || !has(self.postgresql.synchronous) || self.postgresql.synchronous.number < self.instances",
    message: "postgresql.synchronous.number must be lower than instances",
    fieldPath: ".postgresql.synchronous.number",
  }),
  serverRules(
    {
      rule: "has(self.bootstrap) == has(oldSelf.bootstrap) && (!has(self.bootstrap) || self.bootstrap == oldSelf.bootstrap)",
      message: "bootstrap cannot be changed after the cluster is created",
      fieldPath: ".bootstrap",
    },
    {
      rule: "!has(oldSelf.walStorage) || has(self.walStorage)",
      message: "walStorage cannot be removed once set",
      fieldPath: ".walStorage",
    },
  ),
)
export type ClusterSpec = typeof ClusterSpec.Type

/** `status.certificates`: what the operator issued and when it expires. */
export const CertificatesStatus = Schema.Struct({
  serverCASecret: optional(Schema.String),
  serverTLSSecret: optional(Schema.String),
  replicationTLSSecret: optional(Schema.String),
  clientCASecret: optional(Schema.String),
  serverAltDNSNames: optional(Schema.Array(Schema.String)),
  expirations: optional(StringMap),
})

export const ClusterStatus = Schema.Struct({
  phase: optional(Schema.String),
  phaseReason: optional(Schema.String),
  instances: optional(Schema.Int),
  readyInstances: optional(Schema.Int),
  instanceNames: optional(Schema.Array(Schema.String)),
  instancesStatus: optional(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })),
  currentPrimary: optional(Schema.String),
  currentPrimaryTimestamp: optional(Schema.String),
  targetPrimary: optional(Schema.String),
  targetPrimaryTimestamp: optional(Schema.String),
  /**
   * The former primary the operator has seen stopped during a hand-over. The target
   * promotes only once this names the instance it takes over from.
   */
  formerPrimaryStopped: optional(Schema.String),
  timelineID: optional(Schema.Int),
  systemID: optional(Schema.String),
  latestGeneratedNode: optional(Schema.Int),
  healthyPVC: optional(Schema.Array(Schema.String)),
  danglingPVC: optional(Schema.Array(Schema.String)),
  certificates: optional(CertificatesStatus),
  image: optional(Schema.String),
  conditions: optional(Schema.Array(Condition)),
  observedGeneration: optional(Schema.Int),
})
export type ClusterStatus = typeof ClusterStatus.Type

/** Object names must fit into `NAME-N-initdb` Job names and be valid Service names. */
const clusterNamePattern = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
export const maxClusterNameLength = 50

export const Cluster = Schema.Struct({
  apiVersion: Schema.Literal(apiVersion),
  kind: Schema.Literal("Cluster"),
  metadata: ObjectMeta,
  spec: ClusterSpec,
  status: optional(ClusterStatus),
}).pipe(
  // CRDs may only constrain metadata.name from the root of the schema.
  rule((c) => c.metadata.name.length <= maxClusterNameLength, {
    rule: `self.metadata.name.size() <= ${maxClusterNameLength}`,
    message: `metadata.name must be at most ${maxClusterNameLength} characters`,
  }),
  rule((c) => clusterNamePattern.test(c.metadata.name), {
    rule: `self.metadata.name.matches('${clusterNamePattern.source}')`,
    message: "metadata.name must start with a letter and contain only lowercase letters, digits and '-'",
  }),
)
export type Cluster = typeof Cluster.Type
