/** Prometheus text exposition format (0.0.4). Pure. */

export type MetricType = "gauge" | "counter"

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly samples: ReadonlyArray<Sample>
}

/** A valid metric or label name. */
export const sanitizeName = (name: string): string => {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_")
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned
}

const escapeLabel = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"')
const escapeHelp = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")

const formatValue = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v))

/** Render families; samples of families with the same name are merged under one header. */
export const render = (families: ReadonlyArray<Family>): string => {
  const byName = new Map<string, { help: string; type: MetricType; samples: Array<Sample> }>()
  for (const f of families) {
    const entry = byName.get(f.name)
    if (entry === undefined) byName.set(f.name, { help: f.help, type: f.type, samples: [...f.samples] })
    else entry.samples.push(...f.samples)
  }
  const lines: Array<string> = []
  for (const [name, f] of byName) {
    lines.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`)
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${sanitizeName(k)}="${escapeLabel(v)}"`).join(",")
      lines.push(`${name}${labels === "" ? "" : `{${labels}}`} ${formatValue(s.value)}`)
    }
  }
  return lines.join("\n") + "\n"
}

/** A number from a SQL value (int8/numeric arrive as text); undefined when not numeric. */
export const toNumber = (v: unknown): number | undefined => {
  if (typeof v === "number") return v
  if (typeof v === "bigint") return Number(v)
  if (typeof v === "boolean") return v ? 1 : 0
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v)
    return Number.isNaN(n) ? undefined : n
  }
  if (v instanceof Date) return v.getTime() / 1000
  return undefined
}
