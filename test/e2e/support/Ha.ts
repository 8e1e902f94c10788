/**
 * Shared steps of the high-availability tests and the failover benchmark: a Cluster in its
 * own namespace, waiting for it to be healthy, reading its primary as `kubectl get cluster`
 * shows it, and the faults (pod deletion, SIGKILL of postgres, switchover).
 */
import { type Environment, eventually, namespaceWithClient } from "./Environment.ts"
import * as WriteChecker from "./WriteChecker.ts"

export const clusterName = "mycluster"
const pgdata = "/var/lib/postgresql/data/pgdata"

export interface HaCluster {
  readonly env: Environment
  readonly ns: string
  /** The Cluster's name (pods are <name>-<serial>). */
  readonly name: string
}

/** A three-instance Cluster like the walkthrough's, synchronous (any 1) unless `async`. */
export interface ClusterOptions {
  readonly synchronous: boolean
  /** Defaults to mycluster, as in the walkthrough. */
  readonly name?: string
}

export const clusterManifest = (options: ClusterOptions) => ({
  apiVersion: "postgresql.tusk.dev/v1",
  kind: "Cluster",
  metadata: { name: options.name ?? clusterName },
  spec: {
    imageName: "ghcr.io/cloudnative-pg/postgresql:15.3",
    instances: 3,
    storage: { size: "1Gi" },
    enableSuperuserAccess: true,
    postgresql: {
      pg_hba: ["host all postgres all trust"],
      ...(options.synchronous ? { synchronous: { method: "any", number: 1 } } : {}),
    },
  },
})

/** Create the namespace, client pod and Cluster, and wait until it is healthy with its write table. */
export const setUp = async (env: Environment, prefix: string, options: ClusterOptions): Promise<HaCluster> => {
  const ns = await namespaceWithClient(env, prefix)
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(clusterManifest(options)))
  const c = { env, ns, name: options.name ?? clusterName }
  await waitHealthy(c, 6 * 60_000)
  return c
}

export const tearDown = async (c: HaCluster | undefined): Promise<void> => {
  if (c !== undefined) await c.env.kubectl(["delete", "namespace", c.ns, "--wait=false"])
}

export interface ClusterRow {
  readonly instances: string
  readonly ready: string
  readonly status: string
  readonly primary: string
}

/** The row of `kubectl get cluster <name>`, as a user reads it. */
export const clusterRow = async (c: HaCluster): Promise<ClusterRow> => {
  const table = await c.env.kubectl(["-n", c.ns, "get", "cluster", c.name])
  const cells = (table.trim().split("\n")[1] ?? "").split(/\s{2,}/)
  return { instances: cells[2] ?? "", ready: cells[3] ?? "", status: cells[4] ?? "", primary: cells[5] ?? "" }
}

export const waitHealthy = (c: HaCluster, timeoutMs = 180_000) =>
  eventually("the cluster to be healthy", async () => {
    const row = await clusterRow(c)
    return row.status === "Cluster in healthy state" && row.ready === "3" ? row : undefined
  }, timeoutMs, 500)

export interface PodInfo {
  readonly name: string
  readonly phase: string
  readonly ready: boolean
  readonly nodeName: string | undefined
  readonly role: string | undefined
}

interface PodList {
  items: Array<{
    metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string }
    spec: { nodeName?: string }
    status: { phase: string; conditions?: Array<{ type: string; status: string }> }
  }>
}

export const instancePods = async (c: HaCluster): Promise<Array<PodInfo>> => {
  const list = await c.env.json<PodList>(["-n", c.ns, "get", "pods", "-l", `tusk.dev/podRole=instance,tusk.dev/cluster=${c.name}`])
  return list.items.map((p) => ({
    name: p.metadata.name,
    phase: p.status.phase,
    ready: p.status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false,
    nodeName: p.spec.nodeName,
    role: p.metadata.labels?.["tusk.dev/instanceRole"],
  })).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
}

/** Wait until `kubectl get cluster` shows a primary other than `old`; returns it and when it was seen. */
export const waitNewPrimary = (c: HaCluster, old: string, timeoutMs = 60_000) =>
  eventually(`a primary other than ${old}`, async () => {
    const row = await clusterRow(c)
    return row.primary !== "" && row.primary !== old ? { primary: row.primary, at: Date.now() } : undefined
  }, timeoutMs, 100)

/** SIGKILL the postmaster inside the pod (the processes of a crashed PostgreSQL, not the container). */
export const killPostgres = async (c: HaCluster, pod: string): Promise<void> => {
  const r = await c.env.execIn(c.ns, pod, ["sh", "-c", `kill -KILL "$(head -1 ${pgdata}/postmaster.pid)"`])
  if (r.exitCode !== 0) throw new Error(`cannot kill postgres in ${pod}: ${r.stderr}`)
}

/** Ask for a switchover the way the plugin does: set status.targetPrimary. */
export const switchover = (c: HaCluster, to: string) =>
  c.env.kubectl(["-n", c.ns, "patch", "cluster", c.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { targetPrimary: to } })])

/** Run `fault` under write load; returns the writer's report and how long until a new primary showed. */
export const underWriteLoad = async (
  c: HaCluster,
  fault: () => Promise<void>,
  afterFault: () => Promise<void>,
  table = "ha_writes",
) => {
  const options = { namespace: c.ns, table, cluster: c.name }
  await WriteChecker.prepare(c.env, options)
  const writer = WriteChecker.start(c.env, options)
  // Some acknowledged writes before the fault.
  const startedAt = Date.now()
  await eventually("writes before the fault", async () => ((await writer.acknowledgedSince(startedAt)) >= 5 ? true : undefined), 60_000, 200)
  const faultAt = Date.now()
  await fault()
  await afterFault()
  // And some after the recovery.
  const recovered = Date.now()
  await eventually("writes after the fault", async () => ((await writer.acknowledgedSince(recovered)) >= 5 ? true : undefined), 60_000, 200)
  const attempts = await writer.stop()
  return { faultAt, timeline: await timeline(c, faultAt, attempts), report: await WriteChecker.verify(c.env, options, attempts) }
}

/**
 * Where the time went, in ms after the fault: the operator named the target, the target
 * recorded itself primary, and the first acknowledged INSERT after the fault (the last one
 * before it is `lastAckBefore`, negative).
 */
export const timeline = async (c: HaCluster, faultAt: number, attempts: ReadonlyArray<WriteChecker.Attempt>) => {
  const status = (await c.env.json<{ status: { targetPrimaryTimestamp?: string; currentPrimaryTimestamp?: string } }>(["-n", c.ns, "get", "cluster", c.name])).status
  const at = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso) - faultAt)
  const acks = attempts.filter((a) => a.ok).map((a) => a.endedAt)
  const before = acks.filter((t) => t <= faultAt)
  const after = acks.filter((t) => t > faultAt)
  return {
    targetNamedMs: at(status.targetPrimaryTimestamp),
    primaryRecordedMs: at(status.currentPrimaryTimestamp),
    lastAckBeforeMs: before.length === 0 ? null : Math.max(...before) - faultAt,
    firstAckAfterMs: after.length === 0 ? null : Math.min(...after) - faultAt,
  }
}

export interface ClusterStatus {
  readonly currentPrimary?: string
  readonly targetPrimary?: string
  readonly phase?: string
  readonly formerPrimaryStopped?: string
}

/** The Cluster's status as the operator and the instances wrote it. */
export const clusterStatus = async (c: HaCluster): Promise<ClusterStatus> =>
  (await c.env.json<{ status?: ClusterStatus }>(["-n", c.ns, "get", "cluster", c.name])).status ?? {}

/** Wait until status.targetPrimary names an instance other than `old` (the operator's decision); returns it and when. */
export const waitTargetMoved = (c: HaCluster, old: string, timeoutMs = 60_000) =>
  eventually(`status.targetPrimary to move away from ${old}`, async () => {
    const target = (await clusterStatus(c)).targetPrimary
    return target !== undefined && target !== old ? { target, at: Date.now() } : undefined
  }, timeoutMs, 100)

/** Wait until a write through `<name>-rw` succeeds (a healthy status can precede the Service routing to the primary). */
export const waitWritable = (c: HaCluster, timeoutMs = 60_000) =>
  eventually(`${c.name}-rw to accept writes`, async () => {
    const r = await c.env.execIn(c.ns, "client", ["env", "PGCONNECT_TIMEOUT=2", "psql", "-X", "-At", "-h", `${c.name}-rw`, "-U", "postgres", "-d", "postgres", "-c", "select not pg_is_in_recovery()"])
    return r.exitCode === 0 && r.stdout.trim() === "t" ? true : undefined
  }, timeoutMs, 200)
