/**
 * A Cluster's life after creation (issue 7): scaling up and down, a deleted pod coming
 * back under its name with its data, a lost volume replaced by a new serial, and a
 * Cluster that cannot be realised reporting why.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type Environment, environment, eventually, namespaceWithClient } from "./support/Environment.ts"

const minute = 60_000
let env: Environment
let ns: string

interface ClusterStatus {
  phase?: string
  phaseReason?: string
  instances?: number
  readyInstances?: number
  instanceNames?: Array<string>
  currentPrimary?: string
  latestGeneratedNode?: number
}

const status = async (name = "life") =>
  (await env.json<{ status?: ClusterStatus }>(["-n", ns, "get", "cluster", name])).status ?? {}

const healthyWith = (names: ReadonlyArray<string>) =>
  eventually(
    `life healthy with ${names.join(", ")}`,
    async () => {
      const s = await status()
      return s.phase === "Cluster in healthy state" && JSON.stringify(s.instanceNames) === JSON.stringify(names) ? s : undefined
    },
    4 * minute,
  )

const pvcNames = async () =>
  (await env.kubectl(["-n", ns, "get", "pvc", "-l", "tusk.dev/cluster=life", "-o", "jsonpath={.items[*].metadata.name}"])).split(" ").filter((n) => n !== "").sort()

const psql = async (host: string, sql: string) => {
  const r = await env.execIn(ns, "client", ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h", host, "-c", sql])
  if (r.exitCode !== 0) throw new Error(r.stderr)
  return r.stdout.trim()
}

/** A pod's IP, to reach one instance directly. */
const podIP = async (pod: string) => env.kubectl(["-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.podIP}"])

beforeAll(async () => {
  env = await environment()
  ns = await namespaceWithClient(env, "life")
  const cluster = {
    apiVersion: "postgresql.tusk.dev/v1",
    kind: "Cluster",
    metadata: { name: "life" },
    spec: { instances: 3, storage: { size: "1Gi" }, postgresql: { pg_hba: ["host all postgres all trust"] } },
  }
  await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(cluster))
  await healthyWith(["life-1", "life-2", "life-3"])
}, 5 * minute)

afterAll(async () => {
  if (ns !== undefined) await env.kubectl(["delete", "namespace", ns, "--wait=false"])
})

describe("scaling", () => {
  test("3 → 5 adds serials 4 and 5", async () => {
    await env.kubectl(["-n", ns, "scale", "cluster", "life", "--replicas=5"])
    const s = await healthyWith(["life-1", "life-2", "life-3", "life-4", "life-5"])
    expect(s.readyInstances).toBe(5)
    expect(await pvcNames()).toEqual(["life-1", "life-2", "life-3", "life-4", "life-5"])
  }, 5 * minute)

  test("5 → 2 removes the highest serials and their volumes, never the primary", async () => {
    await env.kubectl(["-n", ns, "patch", "cluster", "life", "--type=merge", "-p", '{"spec":{"instances":2}}'])
    const s = await healthyWith(["life-1", "life-2"])
    expect(s.currentPrimary).toBe("life-1")
    await eventually("volumes of removed instances gone", async () => ((await pvcNames()).join() === "life-1,life-2" ? true : undefined))
  }, 5 * minute)

  test("2 → 3 takes the next serial, never one used before", async () => {
    await env.kubectl(["-n", ns, "scale", "cluster", "life", "--replicas=3"])
    const s = await healthyWith(["life-1", "life-2", "life-6"])
    expect(s.latestGeneratedNode).toBe(6)
  }, 5 * minute)
})

describe("losing pods and volumes", () => {
  test("a deleted pod comes back under the same name with its data", async () => {
    await psql("life-rw", "create table marker (v text); insert into marker values ('kept')")
    await eventually("marker on life-2", async () => ((await psql(await podIP("life-2"), "select v from marker").catch(() => "")) === "kept" ? true : undefined))
    const before = await env.kubectl(["-n", ns, "get", "pod", "life-2", "-o", "jsonpath={.metadata.uid}"])
    await env.kubectl(["-n", ns, "delete", "pod", "life-2"])
    await eventually("a new life-2", async () => {
      const uid = await env.kubectl(["-n", ns, "get", "pod", "life-2", "-o", "jsonpath={.metadata.uid}"]).catch(() => before)
      return uid !== before ? uid : undefined
    })
    await healthyWith(["life-1", "life-2", "life-6"])
    expect(await psql(await podIP("life-2"), "select v from marker")).toBe("kept")
  }, 5 * minute)

  test("a lost volume is replaced by a new serial", async () => {
    await env.kubectl(["-n", ns, "delete", "pvc/life-6", "pod/life-6", "--wait=false"])
    const s = await healthyWith(["life-1", "life-2", "life-7"])
    expect(s.latestGeneratedNode).toBe(7)
    expect(await pvcNames()).toEqual(["life-1", "life-2", "life-7"])
  }, 5 * minute)
})

describe("a Cluster that cannot be realised", () => {
  test("an unknown image is reported in status and as an Event", async () => {
    const bad = {
      apiVersion: "postgresql.tusk.dev/v1",
      kind: "Cluster",
      metadata: { name: "noimage" },
      spec: { instances: 1, imageName: "registry.invalid/no-such-postgres:1", storage: { size: "1Gi" } },
    }
    await env.kubectl(["-n", ns, "apply", "-f", "-"], JSON.stringify(bad))
    const s = await eventually("noimage to report the image", async () => {
      const st = await status("noimage")
      return /ImagePullBackOff|ErrImagePull/.test(st.phaseReason ?? "") ? st : undefined
    }, 2 * minute)
    expect(s.phase).toBe("Setting up primary")
    const events = await env.kubectl(["-n", ns, "get", "events", "--field-selector", "involvedObject.name=noimage,reason=InstanceFailed", "-o", "jsonpath={.items[*].message}"])
    expect(events).toMatch(/noimage-1: job noimage-1-initdb: (ImagePullBackOff|ErrImagePull)/)
  }, 3 * minute)
})
