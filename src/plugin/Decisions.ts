/**
 * The pure decisions behind the plugin's writing commands: may this instance be promoted,
 * what the fencing annotation becomes, which instance psql goes to, what of a Secret a
 * report may keep. Each answers with a value or a message that says what to do.
 */
import { Either } from "effect"
import type { StatusReport } from "./status/Model.ts"

/** Why `promote` refuses, or nothing. */
export const checkPromote = (report: StatusReport, instance: string): Either.Either<void, string> => {
  const s = report.summary
  const names = report.instances.map((i) => i.name)
  const found = report.instances.find((i) => i.name === instance)
  if (found === undefined) {
    return Either.left(`${instance} is not an instance of Cluster ${s.name} (instances: ${names.join(", ") || "none"})`)
  }
  if (s.targetPrimary !== undefined) {
    return Either.left(`a hand-over to ${s.targetPrimary} is already in progress; wait for it to finish (kubectl tusk status ${s.name})`)
  }
  if (s.phase === "Failing over" || s.phase === "Switchover in progress") {
    return Either.left(`the Cluster is "${s.phase}"; wait for it to finish (kubectl tusk status ${s.name})`)
  }
  if (s.primary === instance) return Either.left(`${instance} is already the primary`)
  if (found.fenced) return Either.left(`${instance} is fenced; lift it first: kubectl tusk fencing off ${s.name} ${instance}`)
  if (found.podPhase !== "Running" || !found.podReady) {
    return Either.left(`${instance} is not ready (pod ${found.podPhase}${found.podReady ? "" : ", not Ready"}); pick a ready replica`)
  }
  if (found.role !== "Standby") {
    return Either.left(`${instance} is not a streaming replica (${found.unreachable ?? found.role ?? "no status"}); pick a ready replica`)
  }
  return Either.right(undefined)
}

/**
 * The new value of the fencing annotation (undefined removes it). `*` fences all; lifting
 * one instance out of `*` names every other instance instead.
 */
export const editFencing = (
  current: ReadonlyArray<string>,
  on: boolean,
  instance: string,
  allInstances: ReadonlyArray<string>,
): string | undefined => {
  let next: Array<string>
  if (instance === "*") next = on ? ["*"] : []
  else if (on) next = current.includes("*") || current.includes(instance) ? [...current] : [...current, instance]
  else if (current.includes("*")) next = allInstances.filter((n) => n !== instance)
  else next = current.filter((n) => n !== instance)
  return next.length === 0 ? undefined : [...next].sort().join(",")
}

/** The instance psql connects to: the primary, or the first ready streaming replica. */
export const pickPsqlInstance = (report: StatusReport, replica: boolean): Either.Either<string, string> => {
  const s = report.summary
  if (!replica) {
    return s.primary === undefined
      ? Either.left(`Cluster ${s.name} has no primary yet (kubectl tusk status ${s.name})`)
      : Either.right(s.primary)
  }
  const found = report.instances.find((i) => i.name !== s.primary && i.podReady && i.role === "Standby" && !i.fenced)
  return found === undefined
    ? Either.left(`Cluster ${s.name} has no ready replica (kubectl tusk status ${s.name}); connect to the primary without --replica`)
    : Either.right(found.name)
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

/** A Secret with its values removed and its keys kept. */
export const redactSecret = (secret: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const redact = (data: unknown) =>
    typeof data === "object" && data !== null ? Object.fromEntries(Object.keys(data).map((k) => [k, "<redacted>"])) : data
  const metadata = secret["metadata"] as Record<string, unknown> | undefined
  const annotations = metadata?.["annotations"] as Record<string, string> | undefined
  return {
    ...secret,
    ...(metadata === undefined
      ? {}
      : {
        metadata: {
          ...metadata,
          // kubectl apply keeps the whole object, values included, in this annotation.
          ...(annotations?.[lastApplied] === undefined ? {} : { annotations: { ...annotations, [lastApplied]: "<redacted>" } }),
          managedFields: undefined,
        },
      }),
    ...("data" in secret ? { data: redact(secret["data"]) } : {}),
    ...("stringData" in secret ? { stringData: redact(secret["stringData"]) } : {}),
  }
}
