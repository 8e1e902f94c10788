/**
 * Events the kubelet records about a pod (Pulled, Created, Started, Killing, Unhealthy,
 * BackOff, Failed...), so `kubectl describe pod` tells what happened. Best effort.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import type { KubeClientService } from "./Kube.ts"
import type { Pod } from "./Objects.ts"

/** The Event object. Pure. */
export const eventFor = (pod: Pod, node: string, type: "Normal" | "Warning", reason: string, message: string, fieldPath: string | undefined, now: string) => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString("hex")}`, namespace: pod.metadata.namespace ?? "default" },
  involvedObject: {
    apiVersion: "v1",
    kind: "Pod",
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? "default",
    uid: pod.metadata.uid,
    ...(fieldPath === undefined ? {} : { fieldPath }),
  },
  reason,
  message,
  type,
  source: { component: "kubelet", host: node },
  reportingComponent: "kubelet",
  reportingInstance: node,
  firstTimestamp: now,
  lastTimestamp: now,
  count: 1,
})

/** Records an event in the background; failures are only logged. */
export const record = (
  kube: KubeClientService,
  pod: Pod,
  node: string,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
  container?: string,
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const body = eventFor(pod, node, type, reason, message, container === undefined ? undefined : `spec.containers{${container}}`, new Date().toISOString().replace(/\.\d+Z$/, "Z"))
    yield* kube.request("POST", `/api/v1/namespaces/${body.metadata.namespace}/events`, { body }).pipe(
      Effect.catchAll((e) => Effect.logDebug(`event ${reason}: ${e.message}`)),
      Effect.forkDaemon,
      Effect.asVoid,
    )
  })
