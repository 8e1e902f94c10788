/**
 * The cluster's certificates and keys, made with the openssl CLI: one CA per state
 * directory signs the API server's serving certificate, every component's client
 * certificate, and the node agents' kubelet serving and client certificates.
 * Everything is created once and reused on later starts.
 */
import { randomBytes } from "node:crypto"
import { mkdir, rm } from "node:fs/promises"
import { Effect } from "effect"
import * as Layout from "../layout.ts"
import { run } from "./Shell.ts"
import type { StatePaths } from "./StatePaths.ts"

/** What a certificate is for; decides its extended key usage. */
export type CertUsage = "server" | "client" | "both"

export interface CertRequest {
  /** File stem under pki/: <name>.crt and <name>.key. */
  readonly name: string
  readonly commonName: string
  readonly organization?: string
  readonly usage: CertUsage
  readonly dnsNames?: ReadonlyArray<string>
  readonly ipAddresses?: ReadonlyArray<string>
}

const days = "3650"

const exists = (path: string) => Effect.promise(() => Bun.file(path).exists())

const fsEffect = <A>(what: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new Error(`${what}: ${String(e)}`) }).pipe(Effect.orDie)

/** openssl -subj value; '/' and '=' never appear in our names. */
export const subject = (commonName: string, organization?: string): string =>
  organization === undefined ? `/CN=${commonName}` : `/O=${organization}/CN=${commonName}`

/** The x509 v3 extensions of a leaf certificate, as an openssl extfile. */
export const leafExtensions = (req: CertRequest): string => {
  const eku = { server: "serverAuth", client: "clientAuth", both: "serverAuth,clientAuth" }[req.usage]
  const sans = [...(req.dnsNames ?? []).map((d) => `DNS:${d}`), ...(req.ipAddresses ?? []).map((ip) => `IP:${ip}`)]
  return [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${eku}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    "",
  ].join("\n")
}

const ecKey = (path: string) =>
  run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])

/** Creates the CA unless it exists. */
export const ensureCa = Effect.fn("Pki.ensureCa")(function* (paths: StatePaths) {
  if ((yield* exists(paths.caCert)) && (yield* exists(paths.caKey))) return
  yield* fsEffect("mkdir pki", () => mkdir(paths.pki, { recursive: true, mode: 0o700 }))
  yield* ecKey(paths.caKey)
  yield* run([
    "openssl", "req", "-x509", "-new", "-key", paths.caKey, "-out", paths.caCert, "-days", days,
    "-subj", subject("localkube-ca"),
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ])
})

/** Creates a CA-signed key and certificate unless both exist; returns their paths. */
export const ensureCert = Effect.fn("Pki.ensureCert")(function* (paths: StatePaths, req: CertRequest) {
  const cert = paths.cert(req.name)
  const key = paths.key(req.name)
  if ((yield* exists(cert)) && (yield* exists(key))) return { cert, key }
  const csr = `${cert}.csr`
  const ext = `${cert}.ext`
  yield* ecKey(key)
  yield* run(["openssl", "req", "-new", "-key", key, "-out", csr, "-subj", subject(req.commonName, req.organization)])
  yield* fsEffect("write extfile", () => Bun.write(ext, leafExtensions(req)))
  yield* run([
    "openssl", "x509", "-req", "-in", csr, "-CA", paths.caCert, "-CAkey", paths.caKey,
    "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-days", days, "-extfile", ext, "-out", cert,
  ]).pipe(Effect.ensuring(fsEffect("remove csr", () => Promise.all([rm(csr, { force: true }), rm(ext, { force: true })]))))
  return { cert, key }
})

/** Creates the service-account token signing key pair unless it exists. */
export const ensureServiceAccountKey = Effect.fn("Pki.ensureServiceAccountKey")(function* (paths: StatePaths) {
  if ((yield* exists(paths.saKey)) && (yield* exists(paths.saPub))) return
  yield* run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", paths.saKey])
  yield* run(["openssl", "pkey", "-in", paths.saKey, "-pubout", "-out", paths.saPub])
})

/** The API server's serving certificate: every name and address clients use for it. */
export const apiServerCert: CertRequest = {
  name: "apiserver",
  commonName: "kube-apiserver",
  usage: "server",
  dnsNames: [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    `kubernetes.default.svc.${Layout.clusterDomain}`,
  ],
  ipAddresses: [Layout.hostAddress, Layout.apiServerServiceIp, "127.0.0.1"],
}

/** Client identities of the control plane; the API server's default RBAC knows these users. */
export const clientCerts = {
  admin: { name: "admin", commonName: "localkube-admin", organization: "system:masters", usage: "client" },
  kubeletClient: {
    name: "apiserver-kubelet-client",
    commonName: "kube-apiserver-kubelet-client",
    organization: "system:masters",
    usage: "client",
  },
  controllerManager: { name: "controller-manager", commonName: "system:kube-controller-manager", usage: "client" },
  scheduler: { name: "scheduler", commonName: "system:kube-scheduler", usage: "client" },
  kubeProxy: { name: "kube-proxy", commonName: "system:kube-proxy", usage: "client" },
  coredns: { name: "coredns", commonName: "system:coredns", usage: "client" },
  // The aggregation layer's identity; also fills the requestheader CA that controllers read.
  frontProxy: { name: "front-proxy-client", commonName: "front-proxy-client", usage: "client" },
} as const satisfies Record<string, CertRequest>

/** The kubelet serving certificate of node N: the API server verifies it against the CA and InternalIP. */
export const kubeletServingCert = (n: number): CertRequest => ({
  name: `kubelet-${n}`,
  commonName: Layout.nodeName(n),
  usage: "server",
  dnsNames: [Layout.nodeName(n)],
  ipAddresses: [Layout.nodeAddress(n)],
})

/** The client identity of node N, authorised by the Node authorizer and NodeRestriction. */
export const nodeClientCert = (n: number): CertRequest => ({
  name: `node-${n}`,
  commonName: `system:node:${Layout.nodeName(n)}`,
  organization: "system:nodes",
  usage: "client",
})
