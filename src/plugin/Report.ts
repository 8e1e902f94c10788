/**
 * `kubectl tusk report CLUSTER [-f FILE]`: a zip for a support request — the Cluster, the
 * objects labelled with it (Secrets redacted: keys kept, values removed), the Events about
 * them, each instance's /pg/status, and the status report as text and JSON.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { zipSync } from "fflate"
import { stringify } from "yaml"
import { labels } from "../api/Naming.ts"
import * as Resource from "../kube/Resource.ts"
import { redactSecret } from "./Decisions.ts"
import * as Kinds from "./Kinds.ts"
import { gather, probe } from "./status/Gather.ts"
import { renderText } from "./status/Render.ts"
import { clusterNotFound, connect, clusterArg, connectionOptions, explain, PluginError } from "./Target.ts"

const rawClusters = Resource.unstructured(Kinds.clusters)

const labelled = [Kinds.pods, Kinds.pvcs, Kinds.services, Kinds.secrets, Kinds.configMaps, Kinds.jobs, Kinds.pdbs, Kinds.serviceAccounts, Kinds.roles, Kinds.roleBindings]

const options = {
  ...connectionOptions,
  file: Options.text("file").pipe(Options.withAlias("f"), Options.optional, Options.withDescription("Where to write the zip (default: report_CLUSTER_TIME.zip here).")),
}

const withoutManagedFields = (o: Resource.Unstructured) => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } })

export const report = Command.make("report", { ...options, cluster: clusterArg }, (flags) =>
  Effect.gen(function* () {
    const target = yield* connect(flags)
    const { client, namespace } = target
    const name = flags.cluster
    const selector = `${labels.cluster}=${name}`
    const cluster = yield* client.get(rawClusters, name, { namespace }).pipe(Effect.mapError(clusterNotFound(target, name)))
    const [lists, events, status] = yield* Effect.all([
      Effect.forEach(labelled, (kind) =>
        client.list(kind, { namespace, labelSelector: selector }).pipe(
          Effect.map((l) => [kind, l.items] as const),
          Effect.mapError(explain(`listing ${kind.plural}`)),
        ), { concurrency: "unbounded" }),
      client.list(Kinds.events, { namespace }).pipe(Effect.mapError(explain("listing events"))),
      gather(target, name, true),
    ], { concurrency: "unbounded" })
    const pods = lists.find(([kind]) => kind === Kinds.pods)?.[1] ?? []
    const instanceStatuses = yield* Effect.forEach(
      pods.filter((p) => p.metadata.labels?.[labels.podRole] === "instance"),
      (p) => Effect.map(probe(target, p.metadata.name ?? ""), (r) => [p.metadata.name ?? "", r] as const),
      { concurrency: "unbounded" },
    )
    const ours = (n: string | undefined) => n === name || (n ?? "").startsWith(`${name}-`)
    const enc = (s: string) => new TextEncoder().encode(s)
    const files: Record<string, Uint8Array> = {
      "cluster.yaml": enc(stringify(withoutManagedFields(cluster))),
      "status.txt": enc(renderText(status, { color: false, now: new Date(), verbose: true })),
      "status.json": enc(JSON.stringify(status, null, 2)),
      "events.yaml": enc(stringify(events.items.filter((e) => ours((e["involvedObject"] as { name?: string } | undefined)?.name)))),
    }
    for (const [kind, items] of lists) {
      for (const item of items) {
        // List items come without apiVersion and kind; a report is easier to read (and re-apply) with them.
        const typed = { apiVersion: Resource.apiVersion(kind), kind: kind.kind, ...withoutManagedFields(item) }
        const body = kind === Kinds.secrets ? redactSecret(typed) : typed
        files[`objects/${kind.plural}/${item.metadata.name ?? "unnamed"}.yaml`] = enc(stringify(body))
      }
    }
    for (const [pod, r] of instanceStatuses) {
      files[`instances/${pod}.json`] = enc(r._tag === "Ok" ? JSON.stringify(r.status, null, 2) : JSON.stringify({ error: r.reason }))
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "").replace(/-/g, "")
    const file = Option.getOrElse(flags.file, () => `report_${name}_${stamp}.zip`)
    const prefix = `report_${name}/`
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [prefix + k, v])), { level: 6, mtime: new Date() })
    yield* Effect.tryPromise({
      try: () => Bun.write(file, zip),
      catch: (e) => new PluginError({ message: `cannot write ${file}: ${String(e)}`, hint: "pass -f with a writable path" }),
    })
    yield* Console.log(`Wrote ${file} (${Object.keys(files).length} files, ${zip.length} bytes; Secret values redacted).`)
  })).pipe(
    Command.withDescription(
      "Write a zip with the Cluster, its objects (Secrets redacted), Events and instance statuses.\n\n" +
        "Examples:\n  kubectl tusk report mycluster\n  kubectl tusk report mycluster -n prod -f /tmp/mycluster.zip",
    ),
  )
