/**
 * The objects a Cluster owns that do not depend on its instances: identity and RBAC,
 * Services, PodDisruptionBudgets, the PKI and credential Secrets, the PodMonitor. Built by
 * the pure specs, written only when they differ from what is cached.
 */
import type { V1Secret } from "@kubernetes/client-node"
import { Effect, Option } from "effect"
import type { Cluster } from "../../api/Cluster.ts"
import { names } from "../../api/Naming.ts"
import * as KubeClient from "../../kube/KubeClient.ts"
import type { Informer } from "../../kube/Informer.ts"
import type { Unstructured } from "../../kube/Resource.ts"
import * as Kinds from "../Kinds.ts"
import { type Caches as ObserveCaches, ownedBy, secretValue } from "../observe/Observe.ts"
import * as Pki from "../Pki.ts"
import { appSecret, generatePassword, superuserSecret } from "../specs/Credentials.ts"
import { disruptionBudgets } from "../specs/DisruptionBudgets.ts"
import { ownedMeta } from "../specs/Meta.ts"
import { podMonitor } from "../specs/Monitoring.ts"
import { role, roleBinding, serviceAccount } from "../specs/Rbac.ts"
import { services } from "../specs/Services.ts"
import { apply, applyIfChanged, createIfAbsent } from "./Apply.ts"

/** The caches this module reads besides those of observation. */
export interface Caches extends ObserveCaches {
  readonly services: Informer<Unstructured>
  readonly pdbs: Informer<Unstructured>
  readonly serviceAccounts: Informer<Unstructured>
  readonly roles: Informer<Unstructured>
  readonly roleBindings: Informer<Unstructured>
  /** Present only when the PodMonitor CRD is installed. */
  readonly podMonitors: Informer<Unstructured> | undefined
}

const asUnstructured = (o: object): Unstructured => o as Unstructured

const tlsSecret = (cluster: Cluster, name: string, pair: Pki.KeyPair, extra: Record<string, string> = {}): V1Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: ownedMeta(cluster, name),
  type: "kubernetes.io/tls",
  stringData: { "tls.crt": pair.cert, "tls.key": pair.key, ...extra },
})

/** The CA and leaf certificates: issued when missing, expiring, or no longer matching. */
const ensurePki = (caches: Caches, cluster: Cluster, now: Date) =>
  Effect.gen(function* () {
    const n = names(cluster.metadata.name)
    const read = (secret: string, key: string) => Effect.map(secretValue(caches, cluster, secret, key), Option.getOrUndefined)
    let caCert = yield* read(n.caSecret, "ca.crt")
    let caKey = yield* read(n.caSecret, "ca.key")
    let renewedCa = false
    if (caKey === undefined || Pki.needsRenewal(caCert, now)) {
      const ca = yield* Pki.issueCa(cluster.metadata.name, now)
      const secret: V1Secret = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: ownedMeta(cluster, n.caSecret),
        type: "Opaque",
        stringData: { "ca.crt": ca.cert, "ca.key": ca.key },
      }
      yield* apply(Kinds.secrets, secret)
      caCert = ca.cert
      caKey = ca.key
      renewedCa = true
    }
    const ca: Pki.KeyPair = { cert: caCert!, key: caKey }
    const usages = [
      { secret: n.serverSecret, usage: Pki.serverUsage(cluster) },
      { secret: n.replicationSecret, usage: Pki.replicationUsage },
    ]
    for (const { secret, usage } of usages) {
      const cert = yield* read(secret, "tls.crt")
      const names = usage._tag === "Server" ? usage.dnsNames.join(",") : ""
      const namesNow = yield* read(secret, "dns-names")
      const stale =
        renewedCa || cert === undefined || Pki.needsRenewal(cert, now) || !(yield* Pki.signedBy(cert, ca.cert)) || (namesNow ?? "") !== names
      if (stale) {
        const pair = yield* Pki.issueLeaf(ca, usage, now)
        yield* apply(Kinds.secrets, tlsSecret(cluster, secret, pair, { "ca.crt": ca.cert, "dns-names": names }))
      }
    }
    return {
      expirations: Object.fromEntries(
        [
          [n.caSecret, caCert],
          [n.serverSecret, yield* read(n.serverSecret, "tls.crt")],
          [n.replicationSecret, yield* read(n.replicationSecret, "tls.crt")],
        ].flatMap(([secret, pem]) => {
          const at = pem === undefined ? undefined : Pki.expiresAt(pem)
          return at === undefined ? [] : [[secret!, at.toISOString()]]
        }),
      ),
    }
  })

/** Generated credentials: created once, never overwritten; the superuser's removed when access is off. */
const ensureCredentials = (caches: Caches, cluster: Cluster) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const n = names(cluster.metadata.name)
    const cached = (name: string) => Effect.map(caches.secrets.get(`${cluster.metadata.namespace}/${name}`), Option.isSome)
    if (cluster.spec.bootstrap?.initdb?.secret === undefined && !(yield* cached(n.appSecret))) {
      yield* createIfAbsent(Kinds.secrets, caches.secrets, asUnstructured(appSecret(cluster, yield* generatePassword())))
    }
    const superuser = superuserSecret(cluster, "")
    if (superuser !== undefined && !(yield* cached(n.superuserSecret))) {
      yield* createIfAbsent(Kinds.secrets, caches.secrets, asUnstructured(superuserSecret(cluster, yield* generatePassword())!))
    } else if (superuser === undefined && cluster.spec.superuserSecret === undefined && (yield* cached(n.superuserSecret))) {
      yield* client.delete(Kinds.secrets, n.superuserSecret, { namespace: cluster.metadata.namespace })
    }
  })

/** Everything but the instances. Returns what the status reports about certificates. */
export const ensureClusterObjects = (caches: Caches, cluster: Cluster, now: Date) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    yield* applyIfChanged(Kinds.serviceAccounts, caches.serviceAccounts, serviceAccount(cluster))
    yield* applyIfChanged(Kinds.roles, caches.roles, role(cluster))
    yield* applyIfChanged(Kinds.roleBindings, caches.roleBindings, roleBinding(cluster))
    for (const s of services(cluster)) yield* applyIfChanged(Kinds.services, caches.services, s)
    const budgets = disruptionBudgets(cluster)
    for (const b of budgets) yield* applyIfChanged(Kinds.pdbs, caches.pdbs, b)
    for (const stale of yield* ownedBy(caches.pdbs, cluster)) {
      if (!budgets.some((b) => b.metadata?.name === stale.metadata.name)) {
        yield* client.delete(Kinds.pdbs, stale.metadata.name ?? "", { namespace: cluster.metadata.namespace })
      }
    }
    const monitor = podMonitor(cluster)
    if (monitor !== undefined && caches.podMonitors !== undefined) {
      yield* applyIfChanged(Kinds.podMonitors, caches.podMonitors, monitor)
    }
    yield* ensureCredentials(caches, cluster)
    return yield* ensurePki(caches, cluster, now)
  })
