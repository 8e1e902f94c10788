/**
 * Steady state (issue 6, for the product): once a 3-instance Cluster is healthy, the
 * in-cluster operator sends nothing but its Lease renewals and re-opened watches — no
 * write and no LIST, even when something makes it reconcile the Cluster again. The API server counts this itself: API Priority and Fairness
 * attributes each request to the first FlowSchema it matches (test/kube/FlowSchemas.ts),
 * and the schemas below split the operator ServiceAccount's requests by verb. Writes are counted in this
 * test's namespace and at cluster scope only, since other tests share the operator.
 *
 * STEADY_SECONDS sets the measured period (default 60).
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { dispatchedByFlowSchema, flowSchema } from "../kube/FlowSchemas.ts"
import { type Environment, environment, eventually } from "./support/Environment.ts"

const steadySeconds = Number(process.env["STEADY_SECONDS"] ?? "60")
const minute = 60_000
const operator = { namespace: "tusk-system", name: "tusk-controller" }
const writeVerbs = ["create", "update", "patch", "delete", "deletecollection"]

let env: Environment
let ns: string
let schemaNames: ReadonlyArray<string> = []
/** The operator's writes here while it created the Cluster: proof that the write schema counts them. */
let startupWrites = 0

/** FlowSchemas (first match wins) that split the operator's requests: lease, LIST, watch, writes here. */
const flowSchemas = (namespace: string) => {
  const names = { lease: `${namespace}-lease`, list: `${namespace}-list`, watch: `${namespace}-watch`, write: `${namespace}-write` }
  const everywhere = { clusterScope: true, namespaces: ["*"] }
  const rule = (verbs: ReadonlyArray<string>, scope: object, apiGroups = ["*"], resources = ["*"]) => ({ resourceRules: [{ verbs, apiGroups, resources, ...scope }] })
  const objects = [
    flowSchema(names.lease, 90, operator, rule(["*"], everywhere, ["coordination.k8s.io"], ["leases"])),
    flowSchema(names.list, 91, operator, rule(["list"], everywhere)),
    flowSchema(names.watch, 92, operator, rule(["watch"], everywhere)),
    flowSchema(names.write, 93, operator, rule(writeVerbs, { clusterScope: true, namespaces: [namespace] })),
  ]
  return { names, objects }
}

const dispatched = async () => dispatchedByFlowSchema(await env.kubectl(["get", "--raw", "/metrics"]))

interface Listed {
  items: Array<{ kind: string; metadata: { name: string; managedFields?: Array<{ manager?: string; operation?: string; subresource?: string; time?: string }> } }>
}

/** Objects in the namespace written as "tusk" since `since` (managedFields), to say what a write was. */
const writtenSince = async (since: Date) => {
  const kinds = "clusters,pods,pvc,jobs,secrets,services,pdb,serviceaccounts,roles,rolebindings,podmonitors,events.events.k8s.io"
  const listed = await env.json<Listed>(["-n", ns, "get", kinds, "--show-managed-fields"])
  return listed.items.flatMap((o) =>
    (o.metadata.managedFields ?? [])
      .filter((f) => f.manager === "tusk" && f.time !== undefined && new Date(f.time) >= since)
      .map((f) => `${o.kind}/${o.metadata.name} ${f.operation}${f.subresource === undefined ? "" : ` ${f.subresource}`} at ${f.time}`)
  )
}

beforeAll(async () => {
  env = await environment()
  ns = `steady-${process.pid}`
  await env.kubectl(["create", "namespace", ns])
  const flows = flowSchemas(ns)
  schemaNames = Object.values(flows.names)
  await env.kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: flows.objects }))
  const cluster = {
    apiVersion: "postgresql.tusk.dev/v1",
    kind: "Cluster",
    metadata: { name: "steady" },
    // With the objects that are optional (superuser Secret, PodMonitor), so their upkeep is measured too.
    spec: { instances: 3, storage: { size: "1Gi" }, enableSuperuserAccess: true, monitoring: { enablePodMonitor: true } },
  }
  const created = await dispatched()
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(cluster))
  await eventually("steady healthy with 3 ready instances", async () => {
    const s = (await env.json<{ status?: { phase?: string; readyInstances?: number } }>(["-n", ns, "get", "cluster", "steady"])).status
    return s?.phase === "Cluster in healthy state" && s.readyInstances === 3 ? true : undefined
  }, 6 * minute)
  startupWrites = ((await dispatched()).get(flows.names.write) ?? 0) - (created.get(flows.names.write) ?? 0)
}, 7 * minute)

afterAll(async () => {
  if (schemaNames.length > 0) await env.kubectl(["delete", "flowschema", ...schemaNames, "--ignore-not-found"])
  if (ns !== undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
})

test(`a healthy Cluster costs no write and no LIST for ${steadySeconds} s`, async () => {
  const names = flowSchemas(ns).names
  // Let the last status reports and role labels of the start-up settle.
  await Bun.sleep(15_000)
  const since = new Date()
  const before = await dispatched()
  // Halfway, an annotation (by the admin, not counted) makes the operator reconcile the
  // healthy Cluster once more: a reconcile with nothing to do must write nothing either.
  await Bun.sleep((steadySeconds * 1000) / 2)
  await env.kubectl(["-n", ns, "annotate", "--overwrite", "cluster", "steady", `e2e.tusk.dev/poked=${Date.now()}`])
  await Bun.sleep((steadySeconds * 1000) / 2)
  const after = await dispatched()
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
  const counted = { lease: delta(names.lease), list: delta(names.list), watch: delta(names.watch), write: delta(names.write) }
  console.log(`operator writes here while creating the Cluster: ${startupWrites}`)
  console.log(`operator requests over ${steadySeconds} s, counted by the API server: ${JSON.stringify(counted)}`)
  expect(startupWrites).toBeGreaterThan(20)
  // Which objects changed under the field manager "tusk" (the instances' own status writes use it too).
  if (counted.write > 0) {
    console.log(`written as "tusk" since the period began:\n${(await writtenSince(since)).join("\n")}`)
    console.log(`events:\n${await env.kubectl(["-n", ns, "get", "events", "--sort-by=.metadata.creationTimestamp"])}`)
  }
  expect({ list: counted.list, write: counted.write }).toEqual({ list: 0, write: 0 })
  // The leader renews every 2 s (a GET and a PUT at most); watches re-open every 3–4.5 min per informer.
  expect(counted.lease).toBeGreaterThan(0)
  expect(counted.lease).toBeLessThanOrEqual(Math.ceil(steadySeconds / 2) * 2 + 4)
  expect(counted.watch).toBeLessThanOrEqual(13 * (Math.ceil(steadySeconds / 180) + 1))
}, steadySeconds * 1000 + 3 * minute)
