/**
 * Asking an instance how it is: `GET https://<pod IP>:8000/pg/status`, verified against
 * the cluster's CA (the certificate names the Services, not the pod, so only the chain is
 * checked), with a short deadline so one hung instance never slows a reconcile.
 */
import { Duration, Effect, Schema } from "effect"
import { ports } from "../../api/Naming.ts"
import { PgStatus } from "../../instance/status/PgStatus.ts"
import type { ObservedStatus } from "../plan/Observed.ts"

/** How long one status request may take. */
export const statusTimeout = Duration.millis(1500)

const decodeStatus = Schema.decodeUnknown(PgStatus)

/** The status of the instance at `ip`, or why it could not be had. */
export const fetchStatus = (ip: string, ca: string): Effect.Effect<ObservedStatus> =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(`https://${ip}:${ports.status}/pg/status`, {
        signal,
        tls: { ca, checkServerIdentity: () => undefined },
      })
      if (!response.ok) throw new Error(`HTTP ${response.status}`)
      return (await response.json()) as unknown
    },
    catch: (e) => String(e),
  }).pipe(
    Effect.timeoutFail({ duration: statusTimeout, onTimeout: () => "timed out" }),
    Effect.flatMap((body) => Effect.mapError(decodeStatus(body), (e) => `unexpected answer: ${e.message}`)),
    Effect.match({
      onFailure: (error): ObservedStatus => ({ _tag: "Unreachable", error }),
      onSuccess: (status): ObservedStatus => ({ _tag: "Reported", status }),
    }),
  )
