/**
 * Local Kubernetes for bun tests. The first call to `localKube()` in a test run starts
 * the control plane, or reuses one already up (e.g. started by .ci/run or by hand with
 * `npm run localkube -- up`); later calls share it. Each test process registers as a
 * user of the cluster. A control plane started here is torn down by a detached reaper
 * once no registered user is alive, however the processes ended; one that was already
 * up is left running (though if another test run started it, its reaper waits for us too).
 *
 *   const lk = await localKube()
 *   const out = await lk.kubectl(["get", "ns"])
 */
import { Effect } from "effect"
import * as Layout from "./layout.ts"
import * as LocalKube from "./controlplane/LocalKube.ts"
import type { ExecOptions } from "./controlplane/LocalKube.ts"
import { spawnReaper } from "./controlplane/Reaper.ts"
import type { RunResult } from "./controlplane/Shell.ts"
import { registerUser, unregisterUser } from "./controlplane/Users.ts"

export interface LocalKubeHandle {
  readonly service: LocalKube.LocalKubeService
  /** Whether this process started the control plane (and so will stop it). */
  readonly started: boolean
  /** Admin kubeconfig; valid inside the cluster network namespace. */
  readonly kubeconfig: string
  /** Directory holding kubectl and the component binaries. */
  readonly binDir: string
  /** Runs the built kubectl as admin inside the namespace; rejects on a non-zero exit. */
  readonly kubectl: (args: ReadonlyArray<string>, options?: ExecOptions) => Promise<string>
  /** Runs a command inside the namespace (KUBECONFIG, PATH set) and returns its result whatever the exit code. */
  readonly exec: (argv: ReadonlyArray<string>, options?: ExecOptions) => Promise<RunResult>
}

/** Generous: a cold build of the Kubernetes binaries happens inside the first call. */
export const startTimeoutMs = 60 * 60 * 1000

const shared = new Map<string, Promise<LocalKubeHandle>>()

export interface LocalKubeOptions {
  /** Cluster name; default layout.defaultClusterName. */
  readonly cluster?: string
  /** State directory; default $LOCALKUBE_STATE, else <repo>/.localkube/<cluster>. */
  readonly stateDir?: string
}

const start = async (options: LocalKubeOptions): Promise<LocalKubeHandle> => {
  const cluster = options.cluster ?? Layout.defaultClusterName
  const service = LocalKube.make(LocalKube.configFor(cluster, options.stateDir ?? process.env["LOCALKUBE_STATE"]))
  // Registered before up: a reaper (ours or another run's) keeps the cluster while we live.
  registerUser(service.paths.users, process.pid)
  const result = await Effect.runPromise(service.up).catch(async (error: unknown) => {
    // A half-started control plane goes at once unless someone else is using it.
    unregisterUser(service.paths.users, process.pid)
    await Effect.runPromise(Effect.ignore(service.downIfUnused))
    throw error
  })
  // bun test runs no "exit" handlers: a detached reaper stops what we started once its users are gone.
  if (result.started) spawnReaper(service.config.cluster, service.config.stateDir, service.paths.log("reaper"))
  return {
    service,
    started: result.started,
    kubeconfig: result.kubeconfig,
    binDir: result.binDir,
    kubectl: (args, options) => Effect.runPromise(service.kubectl(args, options)),
    exec: (argv, options) => Effect.runPromise(service.exec(argv, options)),
  }
}

/** The shared local control plane of this test run (one per cluster name). */
export const localKube = (options: LocalKubeOptions = {}): Promise<LocalKubeHandle> => {
  const key = options.cluster ?? Layout.defaultClusterName
  const existing = shared.get(key)
  if (existing !== undefined) return existing
  const handle = start(options).catch((error: unknown) => {
    shared.delete(key)
    throw error
  })
  shared.set(key, handle)
  return handle
}
