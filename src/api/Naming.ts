/**
 * Names, labels and ports of everything a Cluster owns. The operator, the instance
 * manager and the plugin all read them from here, so "what is mycluster's -rw Service
 * called" has one answer.
 */

/** Label keys. */
export const labels = {
  cluster: "tusk.dev/cluster",
  instanceName: "tusk.dev/instanceName",
  instanceRole: "tusk.dev/instanceRole",
  podRole: "tusk.dev/podRole",
  jobRole: "tusk.dev/jobRole",
  pvcRole: "tusk.dev/pvcRole",
  appName: "app.kubernetes.io/name",
  appInstance: "app.kubernetes.io/instance",
  appComponent: "app.kubernetes.io/component",
  appManagedBy: "app.kubernetes.io/managed-by",
} as const

/** Values of `tusk.dev/instanceRole`: the -rw and -ro Services select on it. */
export type InstanceRole = "primary" | "replica" | "unhealthy"

/** Annotation keys. */
export const annotations = {
  /** Instance names (comma separated) or `*`: their postmasters are stopped and stay stopped. */
  fencedInstances: "tusk.dev/fencedInstances",
  /** Set on a Cluster to ask for a rolling restart; the value is a timestamp. */
  restartedAt: "tusk.dev/restartedAt",
  /** JSON object of instance name -> token: an instance restarts PostgreSQL in place when its token changes. */
  restartInstances: "tusk.dev/restartInstances",
  /** Set on a Cluster to ask every instance to reload its configuration. */
  reloadedAt: "tusk.dev/reloadedAt",
  /** On a PVC: the serial of the instance it belongs to. */
  serial: "tusk.dev/serial",
  /** On a PVC: `ready` once initdb or join has filled it, so a pod may start on it. */
  pvcStatus: "tusk.dev/pvcStatus",
  /** On a PVC or pod: the hash of the spec the object was created from. */
  specHash: "tusk.dev/specHash",
} as const

/** Ports of an instance pod and of the operator. */
export const ports = {
  postgres: 5432,
  status: 8000,
  metrics: 9187,
  operatorMetrics: 8080,
  operatorHealth: 8081,
} as const

/** Paths inside an instance pod. */
export const podPaths = {
  data: "/var/lib/postgresql/data",
  pgdata: "/var/lib/postgresql/data/pgdata",
  wal: "/var/lib/postgresql/wal",
  controller: "/controller",
  binary: "/controller/tusk",
  sockets: "/controller/run",
  certificates: "/controller/certificates",
} as const

/** Field manager of every write Tusk makes. */
export const fieldManager = "tusk"

/** The serial-numbered name of instance `serial` of cluster `cluster`: pod and PVC name. */
export const instanceName = (cluster: string, serial: number): string => `${cluster}-${serial}`

/** The serial of an instance name of this cluster, or undefined if it is not one. */
export const serialOf = (cluster: string, name: string): number | undefined => {
  if (!name.startsWith(`${cluster}-`)) return undefined
  const rest = name.slice(cluster.length + 1)
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : undefined
}

/** Names of the objects a Cluster owns. */
export const names = (cluster: string) =>
  ({
    rwService: `${cluster}-rw`,
    roService: `${cluster}-ro`,
    rService: `${cluster}-r`,
    appSecret: `${cluster}-app`,
    superuserSecret: `${cluster}-superuser`,
    caSecret: `${cluster}-ca`,
    serverSecret: `${cluster}-server`,
    replicationSecret: `${cluster}-replication`,
    primaryPdb: `${cluster}-primary`,
    replicaPdb: cluster,
    serviceAccount: cluster,
    role: cluster,
    roleBinding: cluster,
    podMonitor: cluster,
    walPvc: (serial: number) => `${cluster}-${serial}-wal`,
    initdbJob: (serial: number) => `${cluster}-${serial}-initdb`,
    joinJob: (serial: number) => `${cluster}-${serial}-join`,
  }) as const

/** The ConfigMap with the default metric queries, in the operator's namespace and copied into each cluster's. */
export const defaultMonitoringConfigMap = "tusk-default-monitoring"

/** The replication user of every cluster. */
export const replicationUser = "streaming_replica"

/**
 * The instances named by a `tusk.dev/fencedInstances` value: comma-separated names or a
 * JSON array of them; `*` stands for all. The operator, the instances and the plugin all
 * read fencing through this one function.
 */
export const fencedInstanceNames = (value: string | undefined): ReadonlyArray<string> => {
  const raw = value?.trim() ?? ""
  if (raw.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(raw)
      return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === "string") : []
    } catch {
      return []
    }
  }
  return raw.split(",").map((n) => n.trim()).filter((n) => n !== "")
}

/** Whether a `tusk.dev/fencedInstances` value fences `instance`. */
export const isFencedBy = (value: string | undefined, instance: string): boolean => {
  const listed = fencedInstanceNames(value)
  return listed.includes("*") || listed.includes(instance)
}

/** The tokens of a `tusk.dev/restartInstances` value by instance; anything malformed asks for nothing. */
export const restartTokensOf = (value: string | undefined): Readonly<Record<string, string>> => {
  try {
    const parsed: unknown = JSON.parse(value ?? "{}")
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""))
  } catch {
    return {}
  }
}
