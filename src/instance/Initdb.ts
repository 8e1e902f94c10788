/**
 * `tusk instance init`: create a new cluster per `bootstrap.initdb`. Everything happens in a
 * scratch directory that is moved to PGDATA only when complete, so a crash at any point
 * leaves either nothing or a finished cluster: safe to retry.
 */
import { Data, Effect } from "effect"
import * as Certificates from "./Certificates.ts"
import { secretNames, superuserHasPassword, type ClusterView } from "./ClusterView.ts"
import * as ConfigFiles from "./ConfigFiles.ts"
import { InstanceSettings } from "./InstanceSettings.ts"
import { dataState, ensureDir, install, removeTree } from "./Pgdata.ts"
import * as Postmaster from "./Postmaster.ts"
import * as Process from "./Process.ts"
import { scramVerifier } from "./Scram.ts"
import { SpecSource, SpecSourceError } from "./SpecSource.ts"
import * as Sql from "./Sql.ts"
import { dirname } from "node:path"

export class InitFailed extends Data.TaggedError("InitFailed")<{ readonly message: string }> {}

/** Functions pg_rewind needs, granted to streaming_replica so rewinds need no superuser. */
const rewindGrants = [
  "pg_catalog.pg_ls_dir(text, boolean, boolean)",
  "pg_catalog.pg_stat_file(text, boolean)",
  "pg_catalog.pg_read_binary_file(text)",
  "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)"
]

/** initdb's arguments for a spec (pure). */
export const initdbArgs = (view: ClusterView): ReadonlyArray<string> => {
  const i = view.spec.bootstrap?.initdb
  const args = [
    "--username=postgres",
    `--encoding=${i?.encoding ?? "UTF8"}`,
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
    "--no-instructions"
  ]
  if (i?.locale !== undefined) args.push(`--locale=${i.locale}`)
  args.push(`--lc-collate=${i?.localeCollate ?? i?.locale ?? "C"}`, `--lc-ctype=${i?.localeCType ?? i?.locale ?? "C"}`)
  if (i?.dataChecksums === true) args.push("--data-checksums")
  if (i?.walSegmentSize !== undefined) args.push(`--wal-segsize=${i.walSegmentSize}`)
  return args
}

const password = (secret: string, data: Readonly<Record<string, string>>) =>
  data["password"] !== undefined
    ? Effect.succeed(data["password"])
    : Effect.fail(new SpecSourceError({ reason: "Invalid", message: `Secret ${secret} has no key password` }))

/** Run a list of statements in one database. */
const runScript = (target: Sql.LocalTarget, database: string, statements: ReadonlyArray<string>) =>
  statements.length === 0
    ? Effect.void
    : Effect.scoped(Effect.gen(function*() {
      const sql = yield* Sql.connect(target, database, 1)
      for (const statement of statements) yield* Sql.query(() => sql.unsafe(statement))
    }))

/** Create the cluster if PGDATA holds none. */
export const init = Effect.fn("Instance.init")(function*() {
  const settings = yield* InstanceSettings
  const source = yield* SpecSource
  if ((yield* dataState(settings.pgdata)) !== "missing") {
    yield* Effect.logInfo("PGDATA already holds a cluster; nothing to do")
    return
  }
  const view = yield* source.cluster
  const initdb = view.spec.bootstrap?.initdb
  const names = secretNames(view)
  const database = initdb?.database ?? "app"
  const owner = initdb?.owner ?? database
  const appPassword = yield* source.secret(names.app).pipe(Effect.flatMap((d) => password(names.app, d)))
  const superPassword = superuserHasPassword(view)
    ? yield* source.secret(names.superuser).pipe(Effect.flatMap((d) => password(names.superuser, d)))
    : undefined
  const scratch = `${settings.pgdata}.initdb`
  yield* removeTree(scratch)
  yield* ensureDir(dirname(settings.pgdata), 0o750).pipe(Effect.ignore)
  yield* ensureDir(settings.socketDir, 0o750)
  yield* ensureDir(settings.certDir, 0o700)
  yield* Certificates.write(view, settings.certDir)
  yield* Effect.logInfo("running initdb")
  yield* Process.run([`${settings.binDir}/initdb`, "-D", scratch, ...initdbArgs(view)], { env: { TZ: "UTC" } })
  yield* ConfigFiles.write(scratch, ConfigFiles.render(view, settings, []))
  // Socket only while the roles and databases are made: nobody else may connect yet.
  const pm = yield* Postmaster.start({ binDir: settings.binDir, pgdata: scratch, instance: settings.instanceName, overrides: { listen_addresses: "" } })
  const stopPm = Postmaster.stop(pm, [{ signal: Postmaster.fast, wait: "60 seconds" }])
  yield* Effect.gen(function*() {
    yield* Postmaster.awaitReady(pm, scratch, "120 seconds")
    const target = { socketDir: settings.socketDir, port: settings.port }
    const verifier = (p: string) => Sql.literal(scramVerifier(p))
    yield* runScript(target, "postgres", [
      `ALTER ROLE postgres PASSWORD ${superPassword === undefined ? "NULL" : verifier(superPassword)}`,
      "CREATE ROLE streaming_replica WITH LOGIN REPLICATION",
      ...rewindGrants.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO streaming_replica`)
    ])
    yield* runScript(target, "postgres", initdb?.postInitSQL ?? [])
    yield* runScript(target, "template1", initdb?.postInitTemplateSQL ?? [])
    yield* runScript(target, "postgres", [
      `CREATE ROLE ${Sql.ident(owner)} WITH LOGIN PASSWORD ${verifier(appPassword)}`,
      `CREATE DATABASE ${Sql.ident(database)} OWNER ${Sql.ident(owner)}`
    ])
    yield* runScript(target, database, initdb?.postInitApplicationSQL ?? [])
    yield* Effect.logInfo("cluster initialised").pipe(Effect.annotateLogs({ database, owner }))
  }).pipe(Effect.ensuring(stopPm))
  yield* install(scratch, settings.pgdata)
})
