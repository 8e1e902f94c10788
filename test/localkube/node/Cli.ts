/**
 * The node verbs of the `localkube` command:
 *   localkube up --nodes N            (start N node agents with the control plane; default 3)
 *   localkube node start|stop|freeze|resume|restart-agent N
 *   localkube node crash N NAMESPACE POD CONTAINER
 *   localkube node partition|heal N NAMESPACE POD
 *   localkube node exec NAMESPACE POD -- CMD...   (like kubectl exec, without a TTY)
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import type { LocalKubeError, LocalKubeService } from "../controlplane/LocalKube.ts"
import * as Nodes from "./Nodes.ts"

export const nodesOption = Options.integer("nodes").pipe(
  Options.withDescription("number of node agents to run (lk-node-1..N)"),
  Options.withDefault(3),
)

/** Starts agents 1..count (those not running yet) and reports them. */
export const startNodes = (lk: LocalKubeService, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i + 1),
    (n) => Effect.flatMap(Nodes.start(lk, n), (pid) => Console.log(`node ${n}: agent pid ${pid}`)),
    { discard: true },
  )

type WithService = <A, E>(cluster: string, f: (lk: LocalKubeService) => Effect.Effect<A, E>) => Effect.Effect<A, E>

const index = Args.integer({ name: "node" })
const text = (name: string) => Args.text({ name })

export const nodeCommand = (name: Options.Options<string>, withService: WithService) => {
  const simple = (verb: string, description: string, f: (lk: LocalKubeService, n: number) => Effect.Effect<unknown, LocalKubeError>) =>
    Command.make(verb, { name, n: index }, ({ name, n }) => withService(name, (lk) => f(lk, n))).pipe(Command.withDescription(description))
  const pod = { name, n: index, namespace: text("namespace"), pod: text("pod") }
  return Command.make("node").pipe(
    Command.withDescription("start, stop and break node agents"),
    Command.withSubcommands([
      simple("start", "start node N's agent (it recreates the pods bound to it)", (lk, n) => Nodes.start(lk, n)),
      simple("stop", "kill node N's agent and every process of its pods (power loss)", (lk, n) => Effect.sync(() => Nodes.stop(lk, n, "kill"))),
      simple("freeze", "suspend node N's agent and pods (SIGSTOP: a hung machine)", (lk, n) => Effect.sync(() => Nodes.stop(lk, n, "freeze"))),
      simple("resume", "resume a frozen node N", (lk, n) => Effect.sync(() => Nodes.resume(lk, n))),
      simple("shutdown", "stop node N's agent gracefully (its pods stop too)", (lk, n) => Effect.sync(() => Nodes.shutdown(lk, n))),
      simple("restart-agent", "kill and restart node N's agent only", (lk, n) => Nodes.restartAgent(lk, n)),
      Command.make("crash", { ...pod, container: text("container") }, ({ name, n, namespace, pod, container }) =>
        withService(name, (lk) => Console.log(Nodes.crashContainer(lk, n, namespace, pod, container) ? "crashed" : "no such container")),
      ).pipe(Command.withDescription("SIGKILL every process of one container")),
      Command.make("exec", { name, namespace: text("namespace"), pod: text("pod"), argv: Args.repeated(text("command")) }, ({ name, namespace, pod, argv }) =>
        withService(name, (lk) =>
          Effect.gen(function* () {
            const r = yield* Nodes.execInPod(lk, namespace, pod, argv)
            process.stdout.write(r.stdout)
            process.stderr.write(r.stderr)
            process.exitCode = r.exitCode
          }),
        ),
      ).pipe(Command.withDescription("run a command inside a running pod (as root)")),
      Command.make("partition", pod, ({ name, n, namespace, pod }) => withService(name, (lk) => Nodes.partitionPod(lk, n, namespace, pod, true))).pipe(
        Command.withDescription("cut one pod off the network"),
      ),
      Command.make("heal", pod, ({ name, n, namespace, pod }) => withService(name, (lk) => Nodes.partitionPod(lk, n, namespace, pod, false))).pipe(
        Command.withDescription("reconnect a partitioned pod"),
      ),
    ]),
  )
}
