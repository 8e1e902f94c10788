/**
 * The operator's HTTP endpoints: Prometheus metrics (:8080/metrics) and probes
 * (:8081/healthz, :8081/readyz). Servers live as long as the scope.
 */
import { Data, Effect, Runtime } from "effect"
import { Health } from "./Health.ts"
import * as Prometheus from "./Prometheus.ts"

/** Where to listen; "host:port", ":port", or "0" for off (as controller-runtime's flags). */
export interface Options {
  readonly metricsAddress: string
  readonly healthAddress: string
}

/** A bind address that cannot be parsed, or a port that cannot be bound. */
export class EndpointError extends Data.TaggedError("EndpointError")<{ readonly message: string }> {}

/** Parse a bind address; undefined when switched off. */
export const parseAddress = (address: string): { readonly hostname: string; readonly port: number } | undefined => {
  if (address === "0" || address === "") return undefined
  const colon = address.lastIndexOf(":")
  const host = colon < 0 ? "" : address.slice(0, colon).replace(/^\[|\]$/g, "")
  const port = Number(colon < 0 ? address : address.slice(colon + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined
  return { hostname: host === "" ? "0.0.0.0" : host, port }
}

const listen = (name: string, address: string, handle: (req: Request) => Promise<Response>) =>
  Effect.gen(function* () {
    const at = parseAddress(address)
    if (at === undefined) return undefined
    const server = yield* Effect.acquireRelease(
      Effect.try({
        try: () => Bun.serve({ hostname: at.hostname, port: at.port, fetch: handle }),
        catch: (e) => new EndpointError({ message: `${name} on ${address}: ${String(e)}` }),
      }),
      (s) => Effect.promise(() => s.stop(true)),
    )
    yield* Effect.logInfo(`serving ${name}`).pipe(Effect.annotateLogs({ address: `${at.hostname}:${server.port}` }))
    return server.port
  })

/** Serve metrics and probes; returns the ports bound (the real ones when ":0" was asked). */
export const serve = Effect.fn("Endpoints.serve")(function* (options: Options) {
  const health = yield* Health
  const run = Runtime.runPromise(yield* Effect.runtime<never>())
  const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
    new Response(body, { status, headers: { "content-type": type } })
  const metricsPort = yield* listen("metrics", options.metricsAddress, async (req) =>
    new URL(req.url).pathname === "/metrics"
      ? text(200, await run(Prometheus.scrape), "text/plain; version=0.0.4; charset=utf-8")
      : text(404, "not found\n"))
  const healthPort = yield* listen("probes", options.healthAddress, async (req) => {
    switch (new URL(req.url).pathname) {
      case "/healthz":
        return text(200, "ok\n")
      case "/readyz": {
        const failing = await run(health.failing)
        return failing.length === 0 ? text(200, "ok\n") : text(503, failing.map((f) => `not ready: ${f}\n`).join(""))
      }
      default:
        return text(404, "not found\n")
    }
  })
  return { metricsPort, healthPort }
})
