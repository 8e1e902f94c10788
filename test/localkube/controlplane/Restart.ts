/**
 * Faults for tests: one control plane component stopped and started again with the same
 * arguments (etcd and every other component keep running), as an upgrade or a crash would.
 */
import { Effect } from "effect"
import { join } from "node:path"
import type { LocalKubeHandle } from "../harness.ts"
import { type ComponentName, components } from "./Components.ts"
import * as Supervisor from "./Supervisor.ts"

/** Stop `name`, wait `downMs`, start it again with its recorded arguments. */
export const restartComponent = async (lk: LocalKubeHandle, name: ComponentName, downMs = 0): Promise<void> => {
  const paths = lk.service.paths
  const spec = components(paths).find((c) => c.name === name)
  const rec = Supervisor.readPidFile(paths.pidFile(name))
  if (spec === undefined || rec === undefined) throw new Error(`${name} is not managed by localkube`)
  Supervisor.stopPidsSync([rec], 10_000)
  await Bun.sleep(downMs)
  await Effect.runPromise(Supervisor.spawnDetached({
    cluster: lk.service.config.cluster,
    argv: [join(lk.binDir, spec.binary), ...spec.args],
    logFile: paths.log(name),
    pidFile: paths.pidFile(name),
    env: { PATH: `${lk.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/root" },
  }))
}

/** Stop kube-apiserver, wait `downMs`, start it again; resolves once /readyz answers. */
export const restartApiServer = async (lk: LocalKubeHandle, downMs = 0): Promise<void> => {
  await restartComponent(lk, "kube-apiserver", downMs)
  const deadline = Date.now() + 60_000
  for (;;) {
    const ready = await lk.kubectl(["get", "--raw", "/readyz"]).then((out) => out.includes("ok"), () => false)
    if (ready) return
    if (Date.now() > deadline) throw new Error("kube-apiserver did not answer /readyz within 60 s of its restart")
    await Bun.sleep(100)
  }
}
