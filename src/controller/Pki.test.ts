import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { X509Certificate } from "node:crypto"
import { expiresAt, issueCa, issueLeaf, needsRenewal, replicationUsage, signedBy, untilRenewal, validity } from "./Pki.ts"

const now = new Date("2026-11-29T12:00:00Z")
const day = 86_400_000

describe("Pki", () => {
  test("issues a CA, a server certificate with SANs and a streaming_replica client certificate", async () => {
    const program = Effect.gen(function* () {
      const ca = yield* issueCa("mycluster", now)
      const server = yield* issueLeaf(ca, { _tag: "Server", commonName: "mycluster-rw", dnsNames: ["mycluster-rw", "mycluster-rw.default.svc"] }, now)
      const client = yield* issueLeaf(ca, replicationUsage, now)
      return { ca, server, client, serverOk: yield* signedBy(server.cert, ca.cert), clientOk: yield* signedBy(client.cert, ca.cert) }
    })
    const { ca, server, client, serverOk, clientOk } = await Effect.runPromise(program)
    // Read back with Node's own X.509 parser, independent of the library that wrote them.
    const caCert = new X509Certificate(ca.cert)
    const serverCert = new X509Certificate(server.cert)
    const clientCert = new X509Certificate(client.cert)
    expect(caCert.ca).toBe(true)
    expect(serverCert.checkIssued(caCert)).toBe(true)
    expect(serverCert.verify(caCert.publicKey)).toBe(true)
    expect(serverCert.subjectAltName).toBe("DNS:mycluster-rw, DNS:mycluster-rw.default.svc")
    expect(clientCert.subject).toBe("CN=streaming_replica")
    expect(clientCert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"])
    expect(serverOk && clientOk).toBe(true)
    expect(new Date(serverCert.validTo).getTime() - now.getTime()).toBeLessThanOrEqual(validity.leafDays * day)
    expect(server.key).toStartWith("-----BEGIN PRIVATE KEY-----")
  })

  test("renews what is missing, unreadable or within a week of expiry", async () => {
    const ca = await Effect.runPromise(issueCa("c", now))
    expect(needsRenewal(undefined, now)).toBe(true)
    expect(needsRenewal("not a certificate", now)).toBe(true)
    expect(needsRenewal(ca.cert, now)).toBe(false)
    expect(needsRenewal(ca.cert, new Date(now.getTime() + (validity.caDays - 6) * day))).toBe(true)
  })

  test("the next renewal is due when the soonest certificate enters the renewal window", async () => {
    const leaf = await Effect.runPromise(Effect.flatMap(issueCa("mycluster", now), (ca) => issueLeaf(ca, replicationUsage, now)))
    const at = (days: number) => new Date(now.getTime() + days * day).toISOString()
    const due = untilRenewal([at(365), expiresAt(leaf.cert)!.toISOString(), at(200)], now)!
    expect(needsRenewal(leaf.cert, new Date(now.getTime() + due))).toBe(true)
    expect(needsRenewal(leaf.cert, new Date(now.getTime() + due - 2000))).toBe(false)
    expect(untilRenewal([at(3)], now)).toBe(0)
    expect(untilRenewal([], now)).toBeUndefined()
  })

  test("a certificate from another CA is not taken as signed", async () => {
    const [a, b] = await Effect.runPromise(Effect.all([issueCa("a", now), issueCa("b", now)]))
    const leaf = await Effect.runPromise(issueLeaf(a, replicationUsage, now))
    expect(await Effect.runPromise(signedBy(leaf.cert, b.cert))).toBe(false)
  })
})
