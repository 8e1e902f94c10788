/**
 * Read everything `status` shows, in parallel: the Cluster, its pods, PVCs and PDBs, the
 * nodes, Warning events, and each instance's /pg/status through the API server's pods/proxy
 * (so a kubeconfig is all it takes). Only the Cluster is required; anything else that fails
 * becomes a warning in the report.
 */
import { Duration, Effect, Schema } from "effect"
import { labels, ports } from "../../api/Naming.ts"
import { PgStatus } from "../../instance/status/PgStatus.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import * as Kinds from "../Kinds.ts"
import { clusterNotFound, type Target } from "../Target.ts"
import { assemble, type Probe } from "./Assemble.ts"

/** How long an instance may take to answer before it is shown as unreachable. */
const probeTimeout = Duration.millis(1500)

const decodeStatus = Schema.decodeUnknown(Schema.parseJson(PgStatus))

/** /pg/status of one pod, never failing. */
export const probe = (target: Target, pod: string): Effect.Effect<Probe> =>
  target.client.proxyGet(target.namespace, pod, "pg/status", { scheme: "https", port: ports.status, timeout: probeTimeout }).pipe(
    Effect.flatMap((res) =>
      res.status === 200
        ? decodeStatus(res.body).pipe(Effect.mapError((e) => `unexpected /pg/status: ${e.message.split("\n")[0]}`))
        : Effect.fail(`/pg/status answered HTTP ${res.status}: ${res.body.slice(0, 200).trim()}`)
    ),
    Effect.match({
      onSuccess: (status): Probe => ({ _tag: "Ok", status }),
      onFailure: (e): Probe => ({ _tag: "Failed", reason: typeof e === "string" ? e : e.message }),
    }),
  )

/**
 * The nodes that the volumes of not-running instances are bound to, read only when there
 * are such instances (listing every node of a large cluster would be slow); a node that is
 * gone is simply absent. Undefined when they could not be read.
 */
const volumeNodes = (target: Target, pods: ReadonlyArray<Unstructured>, pvcs: ReadonlyArray<Unstructured>, warnings: Array<string>) => {
  const stuck = new Set(pods.filter((p) => (p["status"] as { phase?: string } | undefined)?.phase !== "Running").map((p) => p.metadata.name))
  const names = [...new Set(pvcs.flatMap((p) => {
    const node = p.metadata.annotations?.["volume.kubernetes.io/selected-node"]
    return stuck.has(p.metadata.name) && node !== undefined ? [node] : []
  }))]
  return Effect.forEach(names, (n) =>
    target.client.get(Kinds.nodes, n).pipe(
      Effect.map((node) => [node]),
      Effect.catchTag("NotFound", () => Effect.succeed([])),
    ), { concurrency: "unbounded" }).pipe(
      Effect.map((found): ReadonlyArray<Unstructured> | undefined => found.flat()),
      Effect.catchAll((e) => Effect.sync(() => {
        warnings.push(`could not read nodes: ${e.message}`)
        return undefined
      })),
    )
}

/** Gather and assemble the report of one Cluster. */
export const gather = Effect.fn("Status.gather")(function* (target: Target, name: string, verbose: boolean) {
  const { client, namespace } = target
  const selector = `${labels.cluster}=${name}`
  const warnings: Array<string> = []
  const optional = (what: string, list: Effect.Effect<{ readonly items: ReadonlyArray<Unstructured> }, { readonly message: string }>) =>
    list.pipe(
      Effect.map((l) => l.items),
      Effect.catchAll((e) => Effect.sync(() => {
        warnings.push(`could not list ${what}: ${e.message}`)
        return undefined
      })),
    )
  // The probes start as soon as the pods are listed, while the other lists are still coming.
  const podsAndProbes = optional("pods", client.list(Kinds.pods, { namespace, labelSelector: selector })).pipe(
    Effect.flatMap((pods) => {
      const running = (pods ?? []).filter((p) => {
        const status = p["status"] as { phase?: string } | undefined
        return p.metadata.labels?.[labels.podRole] === "instance" && status?.phase === "Running"
      })
      return Effect.forEach(running, (p) => Effect.map(probe(target, p.metadata.name ?? ""), (r) => [p.metadata.name ?? "", r] as const), {
        concurrency: "unbounded",
      }).pipe(Effect.map((probes) => ({ pods, probes })))
    }),
  )
  const { cluster, instances, pvcs, events, pdbs } = yield* Effect.all({
    cluster: client.get(Kinds.clusters, name, { namespace }).pipe(Effect.mapError(clusterNotFound(target, name))),
    instances: podsAndProbes,
    pvcs: optional("PVCs", client.list(Kinds.pvcs, { namespace, labelSelector: selector })),
    events: optional("events", client.list(Kinds.events, { namespace, fieldSelector: "type=Warning,involvedObject.kind=Pod" })),
    pdbs: verbose ? optional("PodDisruptionBudgets", client.list(Kinds.pdbs, { namespace, labelSelector: selector })) : Effect.succeed(undefined),
  }, { concurrency: "unbounded" })
  const { pods, probes } = instances
  const nodes = yield* volumeNodes(target, pods ?? [], pvcs ?? [], warnings)
  return assemble({
    namespace,
    cluster,
    pods: pods ?? [],
    pvcs: pvcs ?? [],
    nodes,
    events: events ?? [],
    pdbs,
    probes: new Map(probes),
    warnings,
    now: new Date(),
  })
})
