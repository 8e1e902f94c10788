/**
 * The parts of Kubernetes objects the node agent reads, as Schemas: decoding keeps only
 * these fields, so everything downstream is typed. Objects the agent writes are plain
 * JSON built elsewhere.
 */
import { Schema } from "effect"

const opt = Schema.optional
const Str = Schema.String
const Num = Schema.Number
const StrMap = Schema.Record({ key: Str, value: Str })

export const ObjectMeta = Schema.Struct({
  name: Str,
  namespace: opt(Str),
  uid: Str,
  resourceVersion: opt(Str),
  labels: opt(StrMap),
  annotations: opt(StrMap),
  deletionTimestamp: opt(Str),
  deletionGracePeriodSeconds: opt(Num),
  creationTimestamp: opt(Str),
})

const KeySelector = Schema.Struct({ name: opt(Str), key: Str, optional: opt(Schema.Boolean) })
const FieldRef = Schema.Struct({ fieldPath: Str })
const ResourceFieldRef = Schema.Struct({ containerName: opt(Str), resource: Str, divisor: opt(Schema.Union(Str, Num)) })

export const EnvVar = Schema.Struct({
  name: Str,
  value: opt(Str),
  valueFrom: opt(
    Schema.Struct({
      fieldRef: opt(FieldRef),
      resourceFieldRef: opt(ResourceFieldRef),
      secretKeyRef: opt(KeySelector),
      configMapKeyRef: opt(KeySelector),
    }),
  ),
})
export type EnvVar = typeof EnvVar.Type

const EnvFrom = Schema.Struct({
  prefix: opt(Str),
  secretRef: opt(Schema.Struct({ name: Str, optional: opt(Schema.Boolean) })),
  configMapRef: opt(Schema.Struct({ name: Str, optional: opt(Schema.Boolean) })),
})

const IntOrString = Schema.Union(Num, Str)

const HttpHeader = Schema.Struct({ name: Str, value: Str })

export const Probe = Schema.Struct({
  exec: opt(Schema.Struct({ command: Schema.Array(Str) })),
  httpGet: opt(
    Schema.Struct({
      path: opt(Str),
      port: IntOrString,
      host: opt(Str),
      scheme: opt(Str),
      httpHeaders: opt(Schema.Array(HttpHeader)),
    }),
  ),
  tcpSocket: opt(Schema.Struct({ port: IntOrString, host: opt(Str) })),
  initialDelaySeconds: opt(Num),
  periodSeconds: opt(Num),
  timeoutSeconds: opt(Num),
  successThreshold: opt(Num),
  failureThreshold: opt(Num),
})
export type Probe = typeof Probe.Type

const SecurityContext = Schema.Struct({
  runAsUser: opt(Num),
  runAsNonRoot: opt(Schema.Boolean),
  runAsGroup: opt(Num),
  fsGroup: opt(Num),
  supplementalGroups: opt(Schema.Array(Num)),
})

const Resources = Schema.Struct({
  limits: opt(Schema.Record({ key: Str, value: IntOrString })),
  requests: opt(Schema.Record({ key: Str, value: IntOrString })),
})

export const Container = Schema.Struct({
  name: Str,
  image: Str,
  command: opt(Schema.Array(Str)),
  args: opt(Schema.Array(Str)),
  workingDir: opt(Str),
  env: opt(Schema.Array(EnvVar)),
  envFrom: opt(Schema.Array(EnvFrom)),
  ports: opt(Schema.Array(Schema.Struct({ name: opt(Str), containerPort: Num, protocol: opt(Str) }))),
  volumeMounts: opt(
    Schema.Array(Schema.Struct({ name: Str, mountPath: Str, readOnly: opt(Schema.Boolean), subPath: opt(Str) })),
  ),
  startupProbe: opt(Probe),
  livenessProbe: opt(Probe),
  readinessProbe: opt(Probe),
  securityContext: opt(SecurityContext),
  resources: opt(Resources),
  restartPolicy: opt(Str),
})
export type Container = typeof Container.Type

const KeyToPath = Schema.Struct({ key: Str, path: Str, mode: opt(Num) })
const DownwardItem = Schema.Struct({
  path: Str,
  fieldRef: opt(FieldRef),
  resourceFieldRef: opt(ResourceFieldRef),
  mode: opt(Num),
})
const ObjectSource = Schema.Struct({ name: opt(Str), items: opt(Schema.Array(KeyToPath)), optional: opt(Schema.Boolean) })

export const ProjectionSource = Schema.Struct({
  serviceAccountToken: opt(Schema.Struct({ audience: opt(Str), expirationSeconds: opt(Num), path: Str })),
  configMap: opt(ObjectSource),
  secret: opt(ObjectSource),
  downwardAPI: opt(Schema.Struct({ items: opt(Schema.Array(DownwardItem)) })),
})
export type ProjectionSource = typeof ProjectionSource.Type

export const Volume = Schema.Struct({
  name: Str,
  emptyDir: opt(Schema.Struct({ medium: opt(Str), sizeLimit: opt(IntOrString) })),
  persistentVolumeClaim: opt(Schema.Struct({ claimName: Str, readOnly: opt(Schema.Boolean) })),
  secret: opt(
    Schema.Struct({ secretName: Str, items: opt(Schema.Array(KeyToPath)), defaultMode: opt(Num), optional: opt(Schema.Boolean) }),
  ),
  configMap: opt(
    Schema.Struct({ name: Str, items: opt(Schema.Array(KeyToPath)), defaultMode: opt(Num), optional: opt(Schema.Boolean) }),
  ),
  downwardAPI: opt(Schema.Struct({ items: opt(Schema.Array(DownwardItem)), defaultMode: opt(Num) })),
  projected: opt(Schema.Struct({ sources: Schema.Array(ProjectionSource), defaultMode: opt(Num) })),
  hostPath: opt(Schema.Struct({ path: Str })),
})
export type Volume = typeof Volume.Type

const Condition = Schema.Struct({
  type: Str,
  status: Str,
  reason: opt(Str),
  message: opt(Str),
  lastTransitionTime: opt(Schema.NullOr(Str)),
  lastProbeTime: opt(Schema.NullOr(Str)),
})

const ContainerStatus = Schema.Struct({
  name: Str,
  restartCount: opt(Num),
  state: opt(Schema.Struct({ running: opt(Schema.Unknown), terminated: opt(Schema.Unknown), waiting: opt(Schema.Unknown) })),
})

export const Pod = Schema.Struct({
  metadata: ObjectMeta,
  spec: Schema.Struct({
    nodeName: opt(Str),
    hostname: opt(Str),
    subdomain: opt(Str),
    restartPolicy: opt(Str),
    terminationGracePeriodSeconds: opt(Num),
    serviceAccountName: opt(Str),
    initContainers: opt(Schema.Array(Container)),
    containers: Schema.Array(Container),
    volumes: opt(Schema.Array(Volume)),
    securityContext: opt(SecurityContext),
    readinessGates: opt(Schema.Array(Schema.Struct({ conditionType: Str }))),
  }),
  status: opt(
    Schema.Struct({
      phase: opt(Str),
      podIP: opt(Str),
      startTime: opt(Str),
      conditions: opt(Schema.Array(Condition)),
      containerStatuses: opt(Schema.Array(ContainerStatus)),
      initContainerStatuses: opt(Schema.Array(ContainerStatus)),
    }),
  ),
})
export type Pod = typeof Pod.Type

export const DataObject = Schema.Struct({
  metadata: ObjectMeta,
  data: opt(StrMap),
  binaryData: opt(StrMap),
  stringData: opt(StrMap),
})
export type DataObject = typeof DataObject.Type

export const Pvc = Schema.Struct({
  metadata: ObjectMeta,
  spec: Schema.Struct({
    volumeName: opt(Str),
    storageClassName: opt(Str),
    accessModes: opt(Schema.Array(Str)),
    volumeMode: opt(Str),
    resources: opt(Schema.Struct({ requests: opt(Schema.Record({ key: Str, value: IntOrString })) })),
  }),
  status: opt(Schema.Struct({ phase: opt(Str) })),
})
export type Pvc = typeof Pvc.Type

export const Pv = Schema.Struct({
  metadata: ObjectMeta,
  spec: Schema.Struct({
    local: opt(Schema.Struct({ path: Str })),
    hostPath: opt(Schema.Struct({ path: Str })),
    storageClassName: opt(Str),
    persistentVolumeReclaimPolicy: opt(Str),
    claimRef: opt(Schema.Struct({ name: opt(Str), namespace: opt(Str), uid: opt(Str) })),
  }),
  status: opt(Schema.Struct({ phase: opt(Str) })),
})
export type Pv = typeof Pv.Type

export const Node = Schema.Struct({
  metadata: ObjectMeta,
  spec: opt(Schema.Struct({ unschedulable: opt(Schema.Boolean), podCIDR: opt(Str) })),
})

export const TokenRequestStatus = Schema.Struct({
  status: Schema.Struct({ token: Str, expirationTimestamp: Str }),
})

/** A watch event whose object is still undecoded. */
export const WatchEvent = Schema.Struct({ type: Str, object: Schema.Unknown })

export const List = Schema.Struct({
  metadata: Schema.Struct({ resourceVersion: opt(Str) }),
  items: Schema.Array(Schema.Unknown),
})
