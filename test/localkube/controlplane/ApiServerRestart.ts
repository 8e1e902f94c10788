/**
 * A fault for tests: kube-apiserver stopped and started again with the same arguments
 * (etcd and every other component keep running), as an API server upgrade or crash would.
 */
import { Effect } from "effect"
import { join } from "node:path"
import type { LocalKubeHandle } from "../harness.ts"
import { components } from "./Components.ts"
import * as Supervisor from "./Supervisor.ts"

/** Stop kube-apiserver, wait `downMs`, start it again; resolves once /readyz answers. */
export const restartApiServer = async (lk: LocalKubeHandle, downMs = 0): Promise<void> => {
  const paths = lk.service.paths
  const spec = components(paths).find((c) => c.name === "kube-apiserver")
  const rec = Supervisor.readPidFile(paths.pidFile("kube-apiserver"))
  if (spec === undefined || rec === undefined) throw new Error("kube-apiserver is not managed by localkube")
  Supervisor.stopPidsSync([rec], 10_000)
  await Bun.sleep(downMs)
  await Effect.runPromise(Supervisor.spawnDetached({
    cluster: lk.service.config.cluster,
    argv: [join(lk.binDir, spec.binary), ...spec.args],
    logFile: paths.log("kube-apiserver"),
    pidFile: paths.pidFile("kube-apiserver"),
    env: { PATH: `${lk.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: "/root" },
  }))
  const deadline = Date.now() + 60_000
  for (;;) {
    const ready = await lk.kubectl(["get", "--raw", "/readyz"]).then((out) => out.includes("ok"), () => false)
    if (ready) return
    if (Date.now() > deadline) throw new Error("kube-apiserver did not answer /readyz within 60 s of its restart")
    await Bun.sleep(100)
  }
}
