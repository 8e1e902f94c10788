/** The operator-issued certificates, copied from their Secrets into the certificates directory (0600). */
import { Effect } from "effect"
import { secretNames, type ClusterView } from "./ClusterView.ts"
import { certificateFiles } from "./config/FixedParameters.ts"
import { writeIfChanged } from "./Pgdata.ts"
import { SpecSource, SpecSourceError } from "./SpecSource.ts"

const key = (secretName: string, data: Readonly<Record<string, string>>, k: string) =>
  data[k] !== undefined
    ? Effect.succeed(data[k])
    : Effect.fail(new SpecSourceError({ reason: "Invalid", message: `Secret ${secretName} has no key ${k}` }))

/** Write the CA, the server pair and the streaming_replica client pair; returns whether anything changed. */
export const write = Effect.fn("Certificates.write")(function*(view: ClusterView, certDir: string) {
  const source = yield* SpecSource
  const names = secretNames(view)
  const [ca, server, replication] = yield* Effect.all(
    [source.secret(names.ca), source.secret(names.server), source.secret(names.replication)],
    { concurrency: "unbounded" }
  )
  const files: ReadonlyArray<readonly [string, string]> = [
    [certificateFiles.ca, yield* key(names.ca, ca, "ca.crt")],
    [certificateFiles.serverCert, yield* key(names.server, server, "tls.crt")],
    [certificateFiles.serverKey, yield* key(names.server, server, "tls.key")],
    [certificateFiles.replicationCert, yield* key(names.replication, replication, "tls.crt")],
    [certificateFiles.replicationKey, yield* key(names.replication, replication, "tls.key")]
  ]
  const changed = yield* Effect.forEach(files, ([file, content]) => writeIfChanged(`${certDir}/${file}`, content, 0o600))
  return changed.some((c) => c)
})
