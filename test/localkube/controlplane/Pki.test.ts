import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import * as Layout from "../layout.ts"
import * as Pki from "./Pki.ts"
import { statePaths } from "./StatePaths.ts"

const dir = mkdtempSync(join(tmpdir(), "lk-pki-"))
const paths = statePaths(dir)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const openssl = (...args: Array<string>) => {
  const r = Bun.spawnSync(["openssl", ...args])
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() }
}

describe("Pki", () => {
  test("leaf extensions name the usage and every SAN", () => {
    const ext = Pki.leafExtensions({ name: "x", commonName: "x", usage: "both", dnsNames: ["a.b"], ipAddresses: ["10.0.0.1"] })
    expect(ext).toContain("extendedKeyUsage=serverAuth,clientAuth")
    expect(ext).toContain("subjectAltName=DNS:a.b,IP:10.0.0.1")
    expect(Pki.leafExtensions(Pki.clientCerts.admin)).not.toContain("subjectAltName")
  })

  test("issues an API server certificate the CA verifies, with the cluster's names, once", async () => {
    await Effect.runPromise(Effect.zipRight(Pki.ensureCa(paths), Pki.ensureCert(paths, Pki.apiServerCert)))
    expect(openssl("verify", "-CAfile", paths.caCert, paths.cert("apiserver")).code).toBe(0)
    const text = openssl("x509", "-in", paths.cert("apiserver"), "-noout", "-text").out
    for (const san of [`IP Address:${Layout.hostAddress}`, `IP Address:${Layout.apiServerServiceIp}`, "DNS:kubernetes.default.svc.cluster.local"]) {
      expect(text).toContain(san)
    }
    expect(text).toContain("TLS Web Server Authentication")
    const first = await Bun.file(paths.cert("apiserver")).text()
    await Effect.runPromise(Pki.ensureCert(paths, Pki.apiServerCert))
    expect(await Bun.file(paths.cert("apiserver")).text()).toBe(first)
  })

  test("puts a node's identity in the system:nodes group", async () => {
    await Effect.runPromise(Effect.zipRight(Pki.ensureCa(paths), Pki.ensureCert(paths, Pki.nodeClientCert(2))))
    const subject = openssl("x509", "-in", paths.cert("node-2"), "-noout", "-subject").out
    expect(subject).toContain("O = system:nodes, CN = system:node:lk-node-2")
  })
})
