/**
 * The cluster's PKI: a CA of its own, a server certificate for every Service name form,
 * and a client certificate for `streaming_replica`. ECDSA P-256 via WebCrypto, X.509
 * through @peculiar/x509 (which needs the reflect-metadata polyfill loaded first).
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"
import { Data, Effect } from "effect"
import type { Cluster } from "../api/Cluster.ts"
import { names, replicationUser } from "../api/Naming.ts"

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  readonly cert: string
  readonly key: string
}

export class PkiError extends Data.TaggedError("PkiError")<{ readonly message: string; readonly cause?: unknown }> {}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const
const day = 86_400_000

/** How long what Tusk issues is valid, and how early it is replaced. */
export const validity = { caDays: 365, leafDays: 90, renewBeforeDays: 7 } as const

const attempt = <A>(what: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (cause) => new PkiError({ message: `${what}: ${String(cause)}`, cause }) })

const serialNumber = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1")

const exportKey = (key: CryptoKey) =>
  attempt("export key", async () => x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY"))

const importKey = (pem: string) =>
  attempt("import key", () =>
    crypto.subtle.importKey("pkcs8", x509.PemConverter.decode(pem)[0]!, algorithm, true, ["sign"]),
  )

const generateKeys = attempt("generate key", () => crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]))

/** A new CA for cluster `name`. */
export const issueCa = (clusterName: string, now: Date): Effect.Effect<KeyPair, PkiError> =>
  Effect.gen(function* () {
    const keys = yield* generateKeys
    const keyId = yield* attempt("key identifier", () => x509.SubjectKeyIdentifierExtension.create(keys.publicKey))
    const cert = yield* attempt("issue CA", () =>
      x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serialNumber(),
        name: `CN=${clusterName}-ca,O=tusk`,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + validity.caDays * day),
        keys,
        signingAlgorithm: algorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          keyId,
        ],
      }),
    )
    return { cert: cert.toString("pem"), key: yield* exportKey(keys.privateKey) }
  })

/** What a leaf certificate is for. */
export type LeafUsage =
  | { readonly _tag: "Server"; readonly commonName: string; readonly dnsNames: ReadonlyArray<string> }
  | { readonly _tag: "Client"; readonly commonName: string }

/** A leaf certificate signed by `ca`. */
export const issueLeaf = (ca: KeyPair, usage: LeafUsage, now: Date): Effect.Effect<KeyPair, PkiError> =>
  Effect.gen(function* () {
    const caKey = yield* importKey(ca.key)
    const caCert = new x509.X509Certificate(ca.cert)
    const keys = yield* generateKeys
    const extensions: Array<x509.Extension> = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(
        [usage._tag === "Server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
    ]
    if (usage._tag === "Server") {
      extensions.push(new x509.SubjectAlternativeNameExtension(usage.dnsNames.map((value) => ({ type: "dns", value }))))
    }
    const cert = yield* attempt("issue certificate", () =>
      x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: `CN=${usage.commonName}`,
        issuer: caCert.subject,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(Math.min(now.getTime() + validity.leafDays * day, caCert.notAfter.getTime())),
        publicKey: keys.publicKey,
        signingKey: caKey,
        signingAlgorithm: algorithm,
        extensions,
      }),
    )
    return { cert: cert.toString("pem"), key: yield* exportKey(keys.privateKey) }
  })

/** When a PEM certificate expires, or undefined when it cannot be read. */
export const expiresAt = (pem: string): Date | undefined => {
  try {
    return new x509.X509Certificate(pem).notAfter
  } catch {
    return undefined
  }
}

/** Whether a certificate is missing, unreadable, or close enough to expiry to replace. */
export const needsRenewal = (pem: string | undefined, now: Date): boolean => {
  const end = pem === undefined ? undefined : expiresAt(pem)
  return end === undefined || end.getTime() - now.getTime() < validity.renewBeforeDays * day
}

/**
 * Milliseconds until the first of these expiry times (ISO) is within the renewal window,
 * just past its edge (0 when one is already); undefined when there is none.
 */
export const untilRenewal = (expirations: ReadonlyArray<string>, now: Date): number | undefined => {
  const due = expirations.map((at) => Date.parse(at) - validity.renewBeforeDays * day - now.getTime()).filter((ms) => !Number.isNaN(ms))
  return due.length === 0 ? undefined : Math.max(0, Math.min(...due) + 1000)
}

/** Whether `cert` was signed by `ca` (after a CA renewal every leaf is reissued). */
export const signedBy = (cert: string, ca: string): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    try {
      return await new x509.X509Certificate(cert).verify({ publicKey: new x509.X509Certificate(ca), signatureOnly: true })
    } catch {
      return false
    }
  })

/** Every name a client may use for the cluster's Services, plus `certificates.serverAltDNSNames`. */
export const serverDnsNames = (cluster: Cluster): ReadonlyArray<string> => {
  const n = names(cluster.metadata.name)
  const namespace = cluster.metadata.namespace ?? "default"
  const forms = (svc: string) => [svc, `${svc}.${namespace}`, `${svc}.${namespace}.svc`, `${svc}.${namespace}.svc.cluster.local`]
  return [
    ...forms(n.rwService),
    ...forms(n.rService),
    ...forms(n.roService),
    ...(cluster.spec.certificates?.serverAltDNSNames ?? []),
  ]
}

/** The server certificate's usage for a cluster. */
export const serverUsage = (cluster: Cluster): LeafUsage => ({
  _tag: "Server",
  commonName: names(cluster.metadata.name).rwService,
  dnsNames: serverDnsNames(cluster),
})

/** The replication client certificate's usage: its CN is the role it logs in as. */
export const replicationUsage: LeafUsage = { _tag: "Client", commonName: replicationUser }
