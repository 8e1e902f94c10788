/**
 * What the end-to-end tests run against: the shared local Kubernetes with three nodes,
 * the operator installed in-cluster from manifests/ (as a user would), and helpers to
 * act as a user: kubectl, and psql from a client pod inside the cluster.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { localKube, type LocalKubeHandle } from "../../localkube/harness.ts"
import * as Nodes from "../../localkube/node/Nodes.ts"

const repo = new URL("../../../", import.meta.url).pathname
export const nodeCount = 3

export interface Environment {
  readonly lk: LocalKubeHandle
  readonly kubectl: (args: ReadonlyArray<string>, stdin?: string) => Promise<string>
  readonly json: <A>(args: ReadonlyArray<string>) => Promise<A>
  /** Run a command inside a pod's namespaces (what `kubectl exec` would do). */
  readonly execIn: (namespace: string, pod: string, argv: ReadonlyArray<string>) => Promise<{ exitCode: number; stdout: string; stderr: string }>
}

let shared: Promise<Environment> | undefined

/** Polls until `check` returns something other than undefined. */
export const eventually = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 120_000, everyMs = 500): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
    await Bun.sleep(everyMs)
  }
}

const setUp = async (): Promise<Environment> => {
  if (!existsSync(`${repo}dist/tusk`)) throw new Error("dist/tusk is missing: run `npm run build` (npm test does)")
  const lk = await localKube()
  for (let n = 1; n <= nodeCount; n++) {
    if (!Nodes.isAgentRunning(lk.service, n)) await Effect.runPromise(Nodes.start(lk.service, n))
  }
  const kubectl = (args: ReadonlyArray<string>, stdin?: string) => lk.kubectl(args, stdin === undefined ? {} : { stdin })
  const json = async <A>(args: ReadonlyArray<string>) => JSON.parse(await kubectl([...args, "-o", "json"])) as A
  // The PodMonitor CRD first: the operator looks for it when it starts.
  await kubectl(["apply", "--server-side", "-f", `${repo}test/e2e/fixtures/podmonitor-crd.yaml`])
  await kubectl(["apply", "--server-side", "--force-conflicts", "-k", `${repo}manifests/overlays/localkube`])
  await kubectl(["-n", "tusk-system", "rollout", "status", "deployment/tusk-controller", "--timeout=120s"])
  const execIn = (namespace: string, pod: string, argv: ReadonlyArray<string>) =>
    Effect.runPromise(Nodes.execInPod(lk.service, namespace, pod, argv))
  return { lk, kubectl, json, execIn }
}

/** The environment of this test run, set up once. */
export const environment = (): Promise<Environment> => {
  shared ??= setUp().catch((e: unknown) => {
    shared = undefined
    throw e
  })
  return shared
}

/** A namespace of its own for a test file, with a client pod that has psql. */
export const namespaceWithClient = async (env: Environment, prefix: string): Promise<string> => {
  const namespace = `${prefix}-${process.pid}`
  await env.kubectl(["create", "namespace", namespace])
  await env.kubectl(["-n", namespace, "run", "client", "--image=tusk.dev/client", "--restart=Never"])
  await env.kubectl(["-n", namespace, "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"])
  return namespace
}
