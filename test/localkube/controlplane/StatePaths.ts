/**
 * Where a local cluster keeps its state: certificates, kubeconfigs, component configs,
 * etcd data, logs and PID files, all under one directory. Pure data.
 */
import { join } from "node:path"

/** Default state directory of a cluster: <repo>/.localkube/<name>. */
export const defaultStateDir = (repoRoot: string, cluster: string): string => join(repoRoot, ".localkube", cluster)

export interface StatePaths {
  readonly root: string
  readonly pki: string
  readonly logs: string
  readonly pids: string
  readonly config: string
  readonly etcdData: string
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly adminKubeconfig: string
  /** CA certificate and key: signs every certificate of the cluster, also node agents' ones. */
  readonly caCert: string
  readonly caKey: string
  /** Service-account token signing key pair. */
  readonly saKey: string
  readonly saPub: string
  /** Serialises up/down of the same cluster across processes. */
  readonly lock: string
  /** Processes using the cluster (see Users.ts). */
  readonly users: string
  readonly log: (component: string) => string
  readonly pidFile: (component: string) => string
  readonly cert: (name: string) => string
  readonly key: (name: string) => string
  readonly kubeconfig: (name: string) => string
}

export const statePaths = (root: string): StatePaths => {
  const pki = join(root, "pki")
  const logs = join(root, "logs")
  const pids = join(root, "pids")
  const config = join(root, "config")
  return {
    root,
    pki,
    logs,
    pids,
    config,
    etcdData: join(root, "etcd"),
    adminKubeconfig: join(root, "admin.kubeconfig"),
    caCert: join(pki, "ca.crt"),
    caKey: join(pki, "ca.key"),
    saKey: join(pki, "sa.key"),
    saPub: join(pki, "sa.pub"),
    lock: join(root, "lock"),
    users: join(root, "users"),
    log: (component) => join(logs, `${component}.log`),
    pidFile: (component) => join(pids, `${component}.pid`),
    cert: (name) => join(pki, `${name}.crt`),
    key: (name) => join(pki, `${name}.key`),
    kubeconfig: (name) => join(config, `${name}.kubeconfig`),
  }
}
