/**
 * Kubeconfig files with embedded certificates, so a copy works anywhere inside the
 * cluster's network namespace. JSON is valid YAML, so no YAML writer is needed.
 */
import { Effect } from "effect"
import * as Layout from "../layout.ts"

export interface KubeconfigInput {
  readonly server: string
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
  readonly user: string
}

/** The API server URL inside the cluster network namespace. */
export const apiServerUrl = `https://${Layout.hostAddress}:${Layout.ports.apiServer}`

const b64 = (s: string) => Buffer.from(s).toString("base64")

export const renderKubeconfig = (input: KubeconfigInput): string =>
  JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "localkube", cluster: { server: input.server, "certificate-authority-data": b64(input.caPem) } }],
      users: [
        { name: input.user, user: { "client-certificate-data": b64(input.certPem), "client-key-data": b64(input.keyPem) } },
      ],
      contexts: [{ name: "localkube", context: { cluster: "localkube", user: input.user } }],
      "current-context": "localkube",
    },
    null,
    2,
  ) + "\n"

/** Writes a kubeconfig for a certificate and key pair unless it already exists. */
export const ensureKubeconfig = Effect.fn("Kubeconfig.ensure")(function* (
  path: string,
  caCert: string,
  cred: { readonly cert: string; readonly key: string },
  user: string,
) {
  if (yield* Effect.promise(() => Bun.file(path).exists())) return path
  const [caPem, certPem, keyPem] = yield* Effect.promise(() =>
    Promise.all([Bun.file(caCert).text(), Bun.file(cred.cert).text(), Bun.file(cred.key).text()]),
  )
  yield* Effect.promise(() => Bun.write(path, renderKubeconfig({ server: apiServerUrl, caPem, certPem, keyPem, user })))
  return path
})
