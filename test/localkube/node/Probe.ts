/**
 * One probe attempt, as the kubelet runs it: httpGet (HTTPS without verification) and
 * tcpSocket against the pod IP from the node, exec inside the pod's namespaces.
 */
import { connect } from "node:net"
import { Effect } from "effect"
import type { Container, Probe } from "./Objects.ts"
import { enterPod } from "./Sandbox.ts"

export interface ProbeTarget {
  readonly podIP: string
  readonly holderPid: number
  readonly container: Container
  readonly env: ReadonlyArray<readonly [string, string]>
}

const resolvePort = (port: number | string, c: Container): number =>
  typeof port === "number" ? port : (c.ports?.find((p) => p.name === port)?.containerPort ?? Number(port))

const http = async (p: NonNullable<Probe["httpGet"]>, t: ProbeTarget, timeoutMs: number): Promise<boolean> => {
  const scheme = (p.scheme ?? "HTTP").toLowerCase()
  const url = `${scheme}://${p.host ?? t.podIP}:${resolvePort(p.port, t.container)}${p.path ?? "/"}`
  const headers: Record<string, string> = { "user-agent": "kube-probe/1.37" }
  for (const h of p.httpHeaders ?? []) headers[h.name] = h.value
  const res = await fetch(url, {
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "manual",
    tls: { rejectUnauthorized: false },
  } as RequestInit)
  await res.arrayBuffer().catch(() => undefined)
  return res.status >= 200 && res.status < 400
}

const tcp = (host: string, port: number, timeoutMs: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port })
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(timeoutMs, () => done(false))
    s.once("connect", () => done(true))
    s.once("error", () => done(false))
  })

const exec = async (command: ReadonlyArray<string>, t: ProbeTarget, timeoutMs: number): Promise<boolean> => {
  const env = t.env.map(([k, v]) => `${k}=${v}`)
  const p = Bun.spawn([...enterPod(t.holderPid), "env", "-i", ...env, ...command], { stdin: "ignore", stdout: "ignore", stderr: "ignore" })
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs)
  const code = await p.exited
  clearTimeout(timer)
  return code === 0
}

/** Runs one attempt; a timeout or error is a failure. */
export const attempt = (probe: Probe, t: ProbeTarget): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000
    try {
      if (probe.httpGet !== undefined) return await http(probe.httpGet, t, timeoutMs)
      if (probe.tcpSocket !== undefined) {
        return await tcp(probe.tcpSocket.host ?? t.podIP, resolvePort(probe.tcpSocket.port, t.container), timeoutMs)
      }
      if (probe.exec !== undefined) return await exec(probe.exec.command, t, timeoutMs)
      return false
    } catch {
      return false
    }
  })
