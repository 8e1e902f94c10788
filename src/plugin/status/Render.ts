/**
 * The text of `kubectl tusk status`: pure over a `StatusReport`, the clock and whether to
 * colour, so golden tests need no cluster.
 */
import type { Instance, StatusReport } from "./Model.ts"

/** How to render. */
export interface RenderOptions {
  readonly color: boolean
  readonly now: Date
  readonly verbose: boolean
}

type Paint = "green" | "yellow" | "red" | "bold" | "dim"
const codes: Record<Paint, string> = { green: "32", yellow: "33", red: "31", bold: "1", dim: "2" }

/** A duration as kubectl prints ages: 45s, 12m, 3h, 5d. */
export const age = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

/** Bytes as a short human figure. */
export const bytes = (n: number): string => {
  const units = ["B", "kB", "MB", "GB", "TB"]
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`
}

const seconds = (s: number | null): string => (s === null ? "-" : `${s.toFixed(3)}s`)

// ANSI escapes have no width on screen.
const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length

/** Columns padded to the widest cell, two spaces apart; cells may carry colour. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, paint: (p: Paint, s: string) => string): Array<string> => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ""))))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visible(c)))).join("  ").trimEnd()
  return [paint("bold", line(header)), ...rows.map(line)]
}

/** The role column: Primary, Standby (sync/async), or what the manager is doing. */
const roleOf = (i: Instance, report: StatusReport): string => {
  if (i.role === undefined) return "-"
  if (i.role === "Standby") {
    const sync = report.replication.find((r) => r.name === i.name)?.syncState
    return sync === undefined ? "Standby" : `Standby (${sync})`
  }
  return i.role
}

/** The status column and its colour. */
const statusOf = (i: Instance): readonly [string, Paint] => {
  if (i.fenced) return ["Fenced", "yellow"]
  if (i.podPhase === "Terminating") return ["Terminating", "yellow"]
  if (i.podPhase !== "Running") return [i.podPhase, "red"]
  if (i.unreachable !== undefined) return ["Unreachable", "red"]
  if (i.podReady) return ["OK", "green"]
  return ["Not ready", "red"]
}

/** Render the report as text. */
export const renderText = (report: StatusReport, options: RenderOptions): string => {
  const paint = (p: Paint, s: string) => (options.color ? `\u001b[${codes[p]}m${s}\u001b[0m` : s)
  const since = (iso: string | undefined) => (iso === undefined ? "" : ` (since ${iso}, ${age(options.now.getTime() - Date.parse(iso))} ago)`)
  const s = report.summary
  const out: Array<string> = []
  const field = (label: string, value: string) => out.push(`${(label + ":").padEnd(20)}${value}`)

  out.push(paint("bold", "Cluster Summary"))
  field("Name", s.name)
  field("Namespace", s.namespace)
  field("System ID", s.systemId ?? "-")
  field("PostgreSQL Image", s.image ?? "-")
  field("Primary instance", s.primary === undefined ? paint("red", "none") : `${s.primary}${since(s.primarySince)}`)
  if (s.targetPrimary !== undefined) field("Target primary", paint("yellow", `${s.targetPrimary}${since(s.targetSince)}`))
  if (s.timeline !== undefined) field("Timeline", String(s.timeline))
  const healthy = s.phase === "Cluster in healthy state"
  field("Status", paint(healthy ? "green" : "yellow", s.phase ?? "unknown") + (s.phaseReason === undefined ? "" : ` (${s.phaseReason})`))
  field("Instances", String(s.instances))
  field("Ready instances", paint(s.readyInstances === s.instances ? "green" : "yellow", String(s.readyInstances)))
  field("Fenced instances", s.fenced.length === 0 ? "none" : paint("yellow", s.fenced.includes("*") ? "all (*)" : s.fenced.join(", ")))

  out.push("", paint("bold", "Certificates Status"))
  if (report.certificates.length === 0) out.push("No certificates reported.")
  else {
    out.push(...table(
      ["Certificate Name", "Expiration Date", "Days Left Until Expiration"],
      report.certificates.map((c) => {
        const days = (Date.parse(c.expires) - options.now.getTime()) / 86_400_000
        const left = days.toFixed(2)
        return [c.name, c.expires, days < 7 ? paint("red", left) : days < 30 ? paint("yellow", left) : left]
      }),
      paint,
    ))
  }

  out.push("", paint("bold", "Streaming Replication status"))
  if (report.replication.length === 0) {
    out.push(s.primary === undefined || !report.instances.some((i) => i.name === s.primary && i.role === "Primary")
      ? "Not available: the primary did not report."
      : "No standby is streaming.")
  } else {
    out.push(...table(
      ["Name", "Sent LSN", "Write LSN", "Flush LSN", "Replay LSN", "Write Lag", "Flush Lag", "Replay Lag", "Lag (bytes)", "State", "Sync State", "Sync Priority"],
      report.replication.map((r) => [
        r.name,
        r.sentLsn ?? "-",
        r.writeLsn ?? "-",
        r.flushLsn ?? "-",
        r.replayLsn ?? "-",
        seconds(r.writeLagSeconds),
        seconds(r.flushLagSeconds),
        seconds(r.replayLagSeconds),
        r.lagBytes === null ? "-" : bytes(r.lagBytes),
        r.state === "streaming" ? r.state : paint("yellow", r.state),
        r.syncState,
        String(r.syncPriority),
      ]),
      paint,
    ))
  }

  out.push("", paint("bold", "Instances status"))
  if (report.instances.length === 0) out.push("No instance pods.")
  else {
    out.push(...table(
      ["Name", "Current LSN", "Role", "Status", "Pending Restart", "Node", "Pod Phase"],
      report.instances.map((i) => {
        const [status, colour] = statusOf(i)
        return [
          i.name,
          i.currentLsn ?? "-",
          roleOf(i, report),
          paint(colour, status),
          i.pendingRestart === undefined ? "-" : i.pendingRestart ? paint("yellow", "yes") : "no",
          i.node ?? "-",
          i.podPhase,
        ]
      }),
      paint,
    ))
    const notes = report.instances.flatMap((i) =>
      i.unreachable !== undefined && i.podPhase === "Running"
        ? [`${i.name}: ${i.unreachable}`]
        : i.roleDetail !== undefined && (i.role !== "Primary" && i.role !== "Standby" || options.verbose)
          ? [`${i.name}: ${i.roleDetail}`]
          : []
    )
    if (notes.length > 0) out.push("", ...notes)
  }

  if (report.pending.length > 0) {
    out.push("", paint("bold", "Pending instances"))
    out.push(...table(["Name", "Reason"], report.pending.map((p) => [p.name, paint("red", p.reason)]), paint))
  }

  if (options.verbose && report.pdbs !== undefined) {
    out.push("", paint("bold", "Pod Disruption Budgets"))
    if (report.pdbs.length === 0) out.push("None.")
    else {
      out.push(...table(
        ["Name", "Role", "Min Available", "Max Unavailable", "Current Healthy", "Desired Healthy", "Disruptions Allowed"],
        report.pdbs.map((p) => [
          p.name,
          p.role,
          p.minAvailable ?? "-",
          p.maxUnavailable ?? "-",
          String(p.currentHealthy),
          String(p.desiredHealthy),
          String(p.disruptionsAllowed),
        ]),
        paint,
      ))
    }
  }

  if (report.warnings.length > 0) out.push("", paint("bold", "Warnings"), ...report.warnings.map((w) => paint("yellow", w)))
  return out.join("\n") + "\n"
}
