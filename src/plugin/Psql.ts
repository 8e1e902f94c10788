/**
 * `kubectl tusk psql CLUSTER [--replica] [-- psql args]`. Two ways in: run psql locally
 * against the instance's pod IP with the Cluster's Secret (when this machine reaches the
 * pod network: `--direct`, or found by a quick TCP check), else `kubectl exec -it` into the
 * instance and psql over its socket, as CloudNativePG does.
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, Effect, Either, Option } from "effect"
import { names, podPaths, ports } from "../api/Naming.ts"
import { pickPsqlInstance } from "./Decisions.ts"
import * as Kinds from "./Kinds.ts"
import { gather } from "./status/Gather.ts"
import { ChildExited, connect, clusterArg, connectionOptions, explain, PluginError, type Target } from "./Target.ts"

const options = {
  ...connectionOptions,
  replica: Options.boolean("replica").pipe(Options.withDescription("Connect to a ready replica instead of the primary.")),
  direct: Options.boolean("direct").pipe(Options.withDescription("Run psql here against the pod IP (this machine must reach the pod network).")),
  exec: Options.boolean("exec").pipe(Options.withDescription("Always use kubectl exec into the instance.")),
}

/** Whether a TCP connection to host:port opens within the deadline. */
const reachable = (host: string, port: number, ms: number) =>
  Effect.async<boolean>((resume) => {
    let settled = false
    const done = (ok: boolean) => {
      if (!settled) {
        settled = true
        resume(Effect.succeed(ok))
      }
    }
    const timer = setTimeout(() => done(false), ms)
    Bun.connect({
      hostname: host,
      port,
      socket: { open: (s) => (s.end(), done(true)), error: () => done(false), data: () => undefined, connectError: () => done(false) },
    }).catch(() => done(false)).finally(() => clearTimeout(timer))
  })

const decodeSecret = (data: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries((data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))

/** Credentials: the superuser Secret when superuser access is on, else the app Secret. */
const credentials = (target: Target, cluster: string) =>
  target.client.get(Kinds.secrets, names(cluster).superuserSecret, { namespace: target.namespace }).pipe(
    Effect.catchTag("NotFound", () => target.client.get(Kinds.secrets, names(cluster).appSecret, { namespace: target.namespace })),
    Effect.mapError(explain(`reading the Secrets of Cluster ${cluster}`)),
    Effect.map((s) => decodeSecret(s["data"])),
  )

/** Run a program attached to this terminal; its exit code becomes ours. */
const run = (argv: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
  Effect.acquireUseRelease(
    Effect.try({
      try: () => Bun.spawn([...argv], { stdio: ["inherit", "inherit", "inherit"], env }),
      catch: (e) => new PluginError({ message: `cannot run ${argv[0]}: ${String(e)}`, hint: `install ${argv[0]} or put it on PATH` }),
    }),
    (proc) => Effect.promise(() => proc.exited),
    (proc) => Effect.sync(() => proc.killed || proc.exitCode !== null || proc.kill()),
  ).pipe(Effect.flatMap((code) => (code === 0 ? Effect.void : Effect.fail(new ChildExited({ code })))))

const environment = Config.all({
  path: Config.option(Config.string("PATH")),
  home: Config.option(Config.string("HOME")),
  kubeconfig: Config.option(Config.string("KUBECONFIG")),
})

export const psql = Command.make(
  "psql",
  { ...options, cluster: clusterArg, args: Args.text({ name: "PSQL-ARGS" }).pipe(Args.withDescription("Arguments for psql, after --."), Args.repeated) },
  (flags) =>
    Effect.gen(function* () {
      const target = yield* connect(flags)
      const report = yield* gather(target, flags.cluster, false)
      const picked = pickPsqlInstance(report, flags.replica)
      if (Either.isLeft(picked)) return yield* new PluginError({ message: picked.left })
      const instance = picked.right
      const pod = yield* target.client.get(Kinds.pods, instance, { namespace: target.namespace }).pipe(Effect.mapError(explain(`reading pod ${instance}`)))
      const ip = (pod["status"] as { podIP?: string } | undefined)?.podIP
      const env = yield* Effect.orDie(environment)
      const baseEnv = { PATH: Option.getOrUndefined(env.path), HOME: Option.getOrUndefined(env.home) }
      const direct = !flags.exec && ip !== undefined && (flags.direct || (yield* reachable(ip, ports.postgres, 300)))
      if (flags.direct && !direct) {
        return yield* new PluginError({ message: `cannot reach ${instance} at ${ip ?? "(no IP)"}:${ports.postgres}`, hint: "drop --direct to go through kubectl exec" })
      }
      if (direct) {
        const secret = yield* credentials(target, flags.cluster)
        const user = secret["username"] ?? "postgres"
        return yield* run(["psql", ...flags.args], {
          ...baseEnv,
          PGHOST: ip,
          PGPORT: String(ports.postgres),
          PGUSER: user,
          PGPASSWORD: secret["password"],
          PGDATABASE: secret["dbname"] ?? (user === "postgres" ? "postgres" : "app"),
          PGSSLMODE: "require",
          PGAPPNAME: "kubectl-tusk",
        })
      }
      const kubectl = [
        "kubectl",
        ...Option.match(flags.kubeconfig, { onNone: () => [], onSome: (k) => ["--kubeconfig", k] }),
        ...Option.match(flags.context, { onNone: () => [], onSome: (c) => ["--context", c] }),
        "-n",
        target.namespace,
        "exec",
        process.stdin.isTTY ? "-it" : "-i",
        instance,
        "-c",
        "postgres",
        "--",
        "psql",
        "-h",
        podPaths.sockets,
        "-U",
        "postgres",
        ...flags.args,
      ]
      return yield* run(kubectl, { ...baseEnv, KUBECONFIG: Option.getOrUndefined(env.kubeconfig) })
    }),
).pipe(
  Command.withDescription(
    "Open psql on the primary (or a replica) of a Cluster. Runs psql here when this machine reaches the pod network " +
      "(or with --direct), using the Cluster's Secret; otherwise uses kubectl exec.\n\n" +
      "Examples:\n  kubectl tusk psql mycluster\n  kubectl tusk psql mycluster --replica -- -c 'select pg_is_in_recovery()'\n  kubectl tusk psql mycluster --direct -- -At -c 'select 1'",
  ),
)
