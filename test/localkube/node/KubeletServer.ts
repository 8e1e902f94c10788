/**
 * The kubelet API the API server proxies to (`kubectl logs`): HTTPS on the node's
 * InternalIP:10250, accepting only clients whose certificate chains to the cluster CA.
 * Serves /containerLogs/{ns}/{pod}/{container} with follow, previous, tailLines,
 * timestamps, sinceSeconds and limitBytes, reading the CRI-format files PodWorker writes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import * as Layout from "../layout.ts"
import { isRunning } from "./Sandbox.ts"

export interface LogQuery {
  readonly follow: boolean
  readonly previous: boolean
  readonly tailLines?: number | undefined
  readonly timestamps: boolean
  readonly sinceSeconds?: number
  readonly limitBytes?: number
}

/** One CRI log line -> what the client sees. Pure. */
export const renderLine = (line: string, q: LogQuery, now: number): string | undefined => {
  const [ts, , , ...rest] = line.split(" ")
  if (ts === undefined) return undefined
  if (q.sinceSeconds !== undefined && Date.parse(ts) < now - q.sinceSeconds * 1000) return undefined
  const msg = rest.join(" ")
  return q.timestamps ? `${ts} ${msg}\n` : `${msg}\n`
}

/** Selects and renders lines of a log file's content. Pure. */
export const renderLog = (content: string, q: LogQuery, now: number): string => {
  const lines = content.split("\n").filter((l) => l !== "")
  const tail = q.tailLines === undefined || q.tailLines < 0 ? lines : lines.slice(Math.max(0, lines.length - q.tailLines))
  const out = tail.flatMap((l) => renderLine(l, q, now) ?? []).join("")
  return q.limitBytes === undefined ? out : out.slice(0, q.limitBytes)
}

/** Log files of a container, oldest first (one per start). */
const logFiles = (podsDir: string, ns: string, pod: string, container: string): Array<string> => {
  let dirs: Array<string>
  try {
    dirs = readdirSync(podsDir).filter((d) => d.startsWith(`${ns}_${pod}_`))
  } catch {
    return []
  }
  const newest = dirs
    .map((d) => join(podsDir, d))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .at(-1)
  if (newest === undefined) return []
  const dir = join(newest, "logs", container)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .map((f) => ({ f, n: Number(f.slice(0, -4)) }))
    .sort((a, b) => a.n - b.n)
    .map(({ f }) => join(dir, f))
}

const numberParam = (u: URL, name: string): number | undefined => {
  const v = u.searchParams.get(name)
  return v === null || v === "" ? undefined : Number(v)
}

const follow = (file: string, q: LogQuery, pidFile: string, from: number): ReadableStream<Uint8Array> => {
  const encoder = new TextEncoder()
  let offset = from
  let buffer = ""
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        const content = readFileSync(file)
        if (content.length > offset) {
          buffer += content.subarray(offset).toString("utf8")
          offset = content.length
          const cut = buffer.lastIndexOf("\n")
          if (cut >= 0) {
            const chunk = buffer.slice(0, cut + 1)
            buffer = buffer.slice(cut + 1)
            controller.enqueue(encoder.encode(renderLog(chunk, { ...q, tailLines: undefined }, Date.now())))
            return
          }
        }
        let alive = false
        try {
          alive = isRunning(Number(readFileSync(pidFile, "utf8")))
        } catch {
          alive = false
        }
        if (!alive) {
          controller.close()
          return
        }
        await Bun.sleep(200)
      }
    },
  })
}

export interface KubeletServerConfig {
  readonly address: string
  readonly podsDir: string
  readonly caCert: string
  readonly servingCert: string
  readonly servingKey: string
}

/** Starts the server; returns a function that stops it. */
export const serve = (config: KubeletServerConfig): (() => void) => {
  const server = Bun.serve({
    hostname: config.address,
    port: Layout.ports.kubelet,
    tls: {
      cert: readFileSync(config.servingCert, "utf8"),
      key: readFileSync(config.servingKey, "utf8"),
      ca: readFileSync(config.caCert, "utf8"),
      requestCert: true,
      rejectUnauthorized: true,
    },
    fetch(req) {
      const u = new URL(req.url)
      if (u.pathname === "/healthz") return new Response("ok")
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(u.pathname)
      if (m === null) return new Response("not found", { status: 404 })
      const [, ns = "", pod = "", container = ""] = m
      const tailLines = numberParam(u, "tailLines")
      const sinceSeconds = numberParam(u, "sinceSeconds")
      const limitBytes = numberParam(u, "limitBytes")
      const q: LogQuery = {
        follow: u.searchParams.get("follow") === "true",
        previous: u.searchParams.get("previous") === "true",
        timestamps: u.searchParams.get("timestamps") === "true",
        ...(tailLines === undefined ? {} : { tailLines }),
        ...(sinceSeconds === undefined ? {} : { sinceSeconds }),
        ...(limitBytes === undefined ? {} : { limitBytes }),
      }
      const files = logFiles(config.podsDir, ns, pod, container)
      const file = q.previous ? files.at(-2) : files.at(-1)
      if (file === undefined) {
        const what = q.previous ? `previous terminated container "${container}" in pod "${pod}" not found` : `container "${container}" in pod "${pod}" is not available`
        return new Response(what, { status: 404 })
      }
      const headers = { "content-type": "text/plain" }
      const raw = readFileSync(file)
      // Only whole lines now; following continues after the last one.
      const whole = raw.subarray(0, raw.lastIndexOf(10) + 1)
      const content = whole.toString("utf8")
      if (!q.follow || q.previous) return new Response(renderLog(raw.toString("utf8"), q, Date.now()), { headers })
      const first = renderLog(content, q, Date.now())
      const encoder = new TextEncoder()
      const rest = follow(file, q, join(file, "..", "pid"), whole.length)
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(first))
          // Follow from the end of what was just sent.
          const reader = rest.getReader()
          await reader.read().then(function pump(r): Promise<void> | void {
            if (r.done) return controller.close()
            controller.enqueue(r.value)
            return reader.read().then(pump)
          })
        },
      })
      return new Response(body, { headers })
    },
  })
  return () => server.stop(true)
}
