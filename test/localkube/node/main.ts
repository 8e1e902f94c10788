/**
 * Entry point of one node agent process:
 *   bun test/localkube/node/main.ts --state-dir DIR --node N [--operator-binary PATH]
 * Run inside the cluster netns (Nodes.ts starts it there). SIGTERM stops the node's
 * pods and exits.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { BunRuntime } from "@effect/platform-bun"
import { Effect } from "effect"
import * as Agent from "./Agent.ts"
import { credentialsFromKubeconfig } from "./Kube.ts"

const arg = (name: string, fallback?: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? process.argv[i + 1] : fallback
  if (v === undefined) throw new Error(`missing --${name}`)
  return v
}

const stateDir = arg("state-dir")
const node = Number(arg("node"))
const pki = join(stateDir, "pki")
const config: Agent.AgentConfig = {
  node,
  stateDir,
  nodeCredentials: credentialsFromKubeconfig(readFileSync(join(stateDir, "config", `node-${node}.kubeconfig`), "utf8")),
  adminCredentials: credentialsFromKubeconfig(readFileSync(join(stateDir, "admin.kubeconfig"), "utf8")),
  caCert: join(pki, "ca.crt"),
  servingCert: join(pki, `kubelet-${node}.crt`),
  servingKey: join(pki, `kubelet-${node}.key`),
  operatorBinary: arg("operator-binary", join(import.meta.dir, "..", "..", "..", "dist", "tusk")),
  backoffInitialMs: Number(arg("backoff-initial-ms", "10000")),
  backoffMaxMs: Number(arg("backoff-max-ms", "300000")),
}

Agent.run(config).pipe(Effect.provide(Agent.layer(config)), BunRuntime.runMain)
