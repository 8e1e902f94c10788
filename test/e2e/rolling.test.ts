/**
 * Rolling updates (issue 8): a change that needs new pods rolls the replicas one at a
 * time, then the primary — restarted in place when unsupervised, or left for the user
 * when supervised, who then switches over.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type Environment, environment, eventually, namespaceWithClient } from "./support/Environment.ts"

const minute = 60_000
let env: Environment
let ns: string

interface Status {
  observedGeneration?: number
  generation?: number
  phase?: string
  phaseReason?: string
  currentPrimary?: string
  instanceNames?: Array<string>
}

/** The status, with the generation it should have observed. */
const status = async (): Promise<Status> => {
  const c = await env.json<{ metadata: { generation: number }; status?: Status }>(["-n", ns, "get", "cluster", "roll"])
  return { ...c.status, generation: c.metadata.generation }
}
const uids = async () => {
  const pods = await env.json<{ items: Array<{ metadata: { name: string; uid: string } }> }>(["-n", ns, "get", "pods", "-l", "tusk.dev/podRole=instance"])
  return new Map(pods.items.map((p) => [p.metadata.name, p.metadata.uid]))
}
const psql = async (sql: string) => {
  const r = await env.execIn(ns, "client", ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h", "roll-rw", "-c", sql])
  if (r.exitCode !== 0) throw new Error(r.stderr)
  return r.stdout.trim()
}
/** Watches the phases the cluster goes through until `done` holds. */
const phasesUntil = async (what: string, done: (s: Status) => boolean) => {
  const seen: Array<string> = []
  await eventually(what, async () => {
    const s = await status()
    if (s.phase !== undefined && seen.at(-1) !== s.phase) seen.push(s.phase)
    return done(s) ? true : undefined
  }, 6 * minute, 300)
  return seen
}
/** Healthy for the latest spec, not for one the operator has not looked at yet. */
const healthy = (s: Status) => s.phase === "Cluster in healthy state" && s.observedGeneration === s.generation
const setEnv = (value: string) =>
  env.kubectl(["-n", ns, "patch", "cluster", "roll", "--type=merge", "-p", JSON.stringify({ spec: { env: [{ name: "ROLL", value }] } })])

beforeAll(async () => {
  env = await environment()
  ns = await namespaceWithClient(env, "roll")
  const cluster = {
    apiVersion: "postgresql.tusk.dev/v1",
    kind: "Cluster",
    metadata: { name: "roll" },
    spec: { instances: 3, storage: { size: "1Gi" }, postgresql: { pg_hba: ["host all postgres all trust"] } },
  }
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(cluster))
  await phasesUntil("roll healthy", (s) => healthy(s) && s.instanceNames?.length === 3)
  await psql("create table kept (v int); insert into kept values (1)")
}, 6 * minute)

afterAll(async () => {
  if (ns !== undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
})

describe("rolling update", () => {
  test("unsupervised: replicas, then the primary restarted in place; no failover, data kept", async () => {
    const before = await uids()
    await setEnv("one")
    const seen = await phasesUntil("the update to finish", (s) => healthy(s))
    const after = await uids()
    for (const name of ["roll-1", "roll-2", "roll-3"]) expect(after.get(name)).not.toBe(before.get(name))
    expect(seen).toContain("Upgrading cluster")
    expect(seen).toContain("Primary instance is being restarted in-place")
    expect(seen).not.toContain("Failing over")
    expect((await status()).currentPrimary).toBe("roll-1")
    expect(await psql("select count(*) from kept")).toBe("1")
  }, 7 * minute)

  test("supervised: the primary waits for the user, who switches over", async () => {
    await env.kubectl(["-n", ns, "patch", "cluster", "roll", "--type=merge", "-p", '{"spec":{"primaryUpdateStrategy":"supervised"}}'])
    await setEnv("two")
    const waiting = await eventually("waiting for user action", async () => {
      const s = await status()
      return s.phase === "Waiting for user action" ? s : undefined
    }, 6 * minute)
    expect(waiting.phaseReason).toContain("roll-1 needs an update")
    await env.kubectl(["-n", ns, "patch", "cluster", "roll", "--subresource=status", "--type=merge", "-p", '{"status":{"targetPrimary":"roll-2"}}'])
    await phasesUntil("switchover and update to finish", (s) => healthy(s) && s.currentPrimary === "roll-2")
    expect(await psql("select count(*) from kept")).toBe("1")
  }, 7 * minute)
})
