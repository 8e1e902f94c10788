/**
 * The objects of one instance: its PVC, its bootstrap Jobs and its Pod. Every instance
 * pod runs a stock PostgreSQL image; an init container copies the `tusk` binary into a
 * shared emptyDir and the postgres container runs it as PID 1.
 */
import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1Job,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
  V1SecurityContext,
  V1Volume,
} from "@kubernetes/client-node"
import type { Cluster } from "../../api/Cluster.ts"
import { annotations, instanceName, labels, names, podPaths, ports } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

/** What the builders need besides the Cluster: the images the operator runs with. */
export interface ImageSettings {
  /** The operator's own image, which carries the `tusk` binary for the init container. */
  readonly operatorImage: string
  /** PostgreSQL image for Clusters that name none. */
  readonly defaultImage: string
}

/** The uid and gid PostgreSQL runs as in CloudNativePG's images. */
export const postgresUid = 26

const instanceLabels = (cluster: Cluster, serial: number) => ({
  [labels.instanceName]: instanceName(cluster.metadata.name, serial),
  [labels.podRole]: "instance",
})

/** Fields Tusk passes to pods untouched; the API server validates them where they land. */
const passThrough = <T>(value: unknown): T => value as T

/** The data PVC of instance `serial`. */
export const dataPvc = (cluster: Cluster, serial: number): V1PersistentVolumeClaim => {
  const storage = cluster.spec.storage
  const template = passThrough<V1PersistentVolumeClaim["spec"]>(storage.pvcTemplate ?? {})
  const requests = { ...template?.resources?.requests, ...(storage.size !== undefined ? { storage: storage.size } : {}) }
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: ownedMeta(
      cluster,
      instanceName(cluster.metadata.name, serial),
      { [labels.instanceName]: instanceName(cluster.metadata.name, serial), [labels.pvcRole]: "PG_DATA" },
      { [annotations.serial]: String(serial) },
    ),
    spec: {
      ...template,
      accessModes: template?.accessModes ?? ["ReadWriteOnce"],
      resources: { ...template?.resources, requests },
      ...(storage.storageClass !== undefined ? { storageClassName: storage.storageClass } : {}),
    },
  }
}

const restricted: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
}

const env = (cluster: Cluster): Array<V1EnvVar> => [
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  { name: "CLUSTER_NAME", value: cluster.metadata.name },
  { name: "PGDATA", value: podPaths.pgdata },
  { name: "PGHOST", value: podPaths.sockets },
  ...passThrough<Array<V1EnvVar>>(cluster.spec.env ?? []),
]

const volumes = (cluster: Cluster, serial: number): Array<V1Volume> => [
  { name: "pgdata", persistentVolumeClaim: { claimName: instanceName(cluster.metadata.name, serial) } },
  { name: "scratch-data", emptyDir: {} },
  { name: "shm", emptyDir: { medium: "Memory" } },
]

const mounts = [
  { name: "pgdata", mountPath: podPaths.data },
  { name: "scratch-data", mountPath: podPaths.controller },
  { name: "shm", mountPath: "/dev/shm" },
]

const bootstrapContainer = (images: ImageSettings): V1Container => ({
  name: "bootstrap-controller",
  image: images.operatorImage,
  command: ["/usr/local/bin/tusk", "bootstrap", podPaths.binary],
  volumeMounts: [{ name: "scratch-data", mountPath: podPaths.controller }],
  securityContext: restricted,
  resources: { requests: { cpu: "10m", memory: "32Mi" } },
})

const affinity = (cluster: Cluster): V1Affinity | undefined => {
  const a = cluster.spec.affinity
  if (a.enablePodAntiAffinity === false) return undefined
  const term = {
    topologyKey: a.topologyKey,
    labelSelector: { matchLabels: { [labels.cluster]: cluster.metadata.name, [labels.podRole]: "instance" } },
  }
  return {
    podAntiAffinity:
      a.podAntiAffinityType === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
  }
}

const podSpec = (
  cluster: Cluster,
  serial: number,
  images: ImageSettings,
  main: V1Container,
  restartPolicy: "Always" | "Never",
): V1PodSpec => {
  const a = cluster.spec.affinity
  const aff = affinity(cluster)
  return {
    serviceAccountName: names(cluster.metadata.name).serviceAccount,
    hostname: instanceName(cluster.metadata.name, serial),
    restartPolicy,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: cluster.spec.stopDelay,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: postgresUid,
      runAsGroup: postgresUid,
      fsGroup: postgresUid,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [bootstrapContainer(images)],
    containers: [main],
    volumes: volumes(cluster, serial),
    ...(aff !== undefined ? { affinity: aff } : {}),
    ...(a.nodeSelector !== undefined ? { nodeSelector: { ...a.nodeSelector } } : {}),
    ...(a.tolerations !== undefined ? { tolerations: passThrough<NonNullable<V1PodSpec["tolerations"]>>(a.tolerations) } : {}),
  }
}

const postgresContainer = (cluster: Cluster, images: ImageSettings, name: string, args: Array<string>): V1Container => ({
  name,
  image: cluster.spec.imageName ?? images.defaultImage,
  ...(cluster.spec.imagePullPolicy !== undefined ? { imagePullPolicy: cluster.spec.imagePullPolicy } : {}),
  command: [podPaths.binary, ...args],
  env: env(cluster),
  volumeMounts: mounts,
  securityContext: restricted,
  ...(cluster.spec.resources !== undefined
    ? { resources: passThrough<NonNullable<V1Container["resources"]>>(cluster.spec.resources) }
    : {}),
})

const https = (path: string) => ({ httpGet: { path, port: ports.status, scheme: "HTTPS" } })

/**
 * A hash of everything in an instance pod that only a new pod can change (image,
 * resources, environment, scheduling, timeouts): pods carry it, and a pod whose hash
 * differs from the Cluster's is rolled.
 */
export const podTemplateHash = (cluster: Cluster, images: ImageSettings): string => {
  const pod = instancePod(cluster, 0, images)
  const { metadata: _, ...rest } = pod
  return Bun.hash(JSON.stringify({ ...rest, spec: { ...rest.spec, hostname: undefined, volumes: undefined } })).toString(16)
}

/** The pod of instance `serial`; its role label is set by the plan afterwards. */
export const instancePod = (cluster: Cluster, serial: number, images: ImageSettings): V1Pod => {
  const main: V1Container = {
    ...postgresContainer(cluster, images, "postgres", ["instance", "run"]),
    ports: [
      { name: "postgresql", containerPort: ports.postgres, protocol: "TCP" },
      { name: "status", containerPort: ports.status, protocol: "TCP" },
      { name: "metrics", containerPort: ports.metrics, protocol: "TCP" },
    ],
    // Recovery after a crash may take long: startDelay bounds it, then liveness takes over.
    startupProbe: { ...https("/healthz"), periodSeconds: 2, failureThreshold: Math.max(1, Math.ceil(cluster.spec.startDelay / 2)) },
    livenessProbe: { ...https("/healthz"), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
    // Every second, and two misses in a row: a primary that restarts after a crash within a
    // second or two stays behind -rw (its clients and its standbys, which follow it through
    // -rw, reconnect as soon as it accepts connections), and one back later serves again
    // within a second of accepting connections.
    readinessProbe: { ...https("/readyz"), periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 },
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: ownedMeta(cluster, instanceName(cluster.metadata.name, serial), instanceLabels(cluster, serial)),
    spec: podSpec(cluster, serial, images, main, "Always"),
  }
}

/** The Job that fills instance `serial`'s PVC: initdb for the first instance, join for the others. */
export const bootstrapJob = (cluster: Cluster, serial: number, kind: "initdb" | "join", images: ImageSettings): V1Job => {
  const n = names(cluster.metadata.name)
  const name = kind === "initdb" ? n.initdbJob(serial) : n.joinJob(serial)
  const jobLabels = { ...instanceLabels(cluster, serial), [labels.podRole]: "job", [labels.jobRole]: kind }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: ownedMeta(cluster, name, jobLabels),
    spec: {
      backoffLimit: 6,
      template: {
        metadata: { labels: { ...ownedMeta(cluster, name, jobLabels).labels } },
        // The Job's pod has a generated name: tell the instance manager which instance it fills.
        spec: podSpec(
          cluster,
          serial,
          images,
          postgresContainer(cluster, images, kind, [
            "instance",
            kind === "initdb" ? "init" : "join",
            "--instance-name",
            instanceName(cluster.metadata.name, serial),
          ]),
          "Never",
        ),
      },
    },
  }
}
