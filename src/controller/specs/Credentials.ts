/**
 * The `-app` and `-superuser` Secrets: basic-auth Secrets with the connection details
 * applications need. Passwords are generated once, 64 characters from a CSPRNG, and
 * never rotated by the operator behind the user's back.
 */
import type { V1Secret } from "@kubernetes/client-node"
import { Effect } from "effect"
import type { Cluster } from "../../api/Cluster.ts"
import { names, ports } from "../../api/Naming.ts"
import { ownedMeta } from "./Meta.ts"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
/** Largest multiple of the alphabet size below 256, so every character is equally likely. */
const unbiasedLimit = 256 - (256 % alphabet.length)

/** A random password of `length` alphanumeric characters (URI- and pgpass-safe). */
export const generatePassword = (length = 64): Effect.Effect<string> =>
  Effect.sync(() => {
    let out = ""
    while (out.length < length) {
      for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
        if (byte < unbiasedLimit && out.length < length) out += alphabet[byte % alphabet.length]
      }
    }
    return out
  })

/** The database the application secret points at, and its owner (the database name unless set). */
export const applicationDatabase = (cluster: Cluster): { readonly database: string; readonly owner: string } => {
  const initdb = cluster.spec.bootstrap?.initdb
  const database = initdb?.database ?? "app"
  return { database, owner: initdb?.owner ?? database }
}

const connectionData = (
  cluster: Cluster,
  user: string,
  password: string,
  dbname: string,
  pgpassDatabase = dbname,
): Record<string, string> => {
  const namespace = cluster.metadata.namespace ?? "default"
  const host = names(cluster.metadata.name).rwService
  const fqdn = `${host}.${namespace}.svc`
  const port = String(ports.postgres)
  return {
    username: user,
    password,
    dbname,
    host,
    port,
    uri: `postgresql://${user}:${password}@${fqdn}:${port}/${dbname}`,
    "jdbc-uri": `jdbc:postgresql://${fqdn}:${port}/${dbname}?password=${password}&user=${user}`,
    pgpass: `${fqdn}:${port}:${pgpassDatabase}:${user}:${password}\n`,
  }
}

const basicAuth = (cluster: Cluster, name: string, data: Record<string, string>): V1Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: ownedMeta(cluster, name),
  type: "kubernetes.io/basic-auth",
  stringData: data,
})

/** `-app`: the owner of the application database. */
export const appSecret = (cluster: Cluster, password: string): V1Secret => {
  const { database, owner } = applicationDatabase(cluster)
  return basicAuth(cluster, names(cluster.metadata.name).appSecret, connectionData(cluster, owner, password, database))
}

/** `-superuser` (its pgpass line matches every database): only with `enableSuperuserAccess` and no user-provided `superuserSecret`. */
export const superuserSecret = (cluster: Cluster, password: string): V1Secret | undefined =>
  cluster.spec.enableSuperuserAccess && cluster.spec.superuserSecret === undefined
    ? basicAuth(cluster, names(cluster.metadata.name).superuserSecret, connectionData(cluster, "postgres", password, "postgres", "*"))
    : undefined
