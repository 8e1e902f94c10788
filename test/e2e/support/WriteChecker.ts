/**
 * A user's application under faults: a loop inside the client pod inserts one row per
 * connection through `<cluster>-rw` (as `psql -c` would from an app), numbering each
 * INSERT and recording whether it was acknowledged, when, and which server answered.
 * After the fault, `verify` reads the table back and reports:
 * - lost: acknowledged ids missing from the table (must be 0 with synchronous replication);
 * - doubleWriters: in id order, the acknowledging server changes back to one that had
 *   already been replaced (two primaries accepted writes in the same period);
 * - unavailableMs: the longest time between two consecutive acknowledged INSERTs.
 */
import type { Environment } from "./Environment.ts"

export interface Attempt {
  readonly id: number
  readonly ok: boolean
  readonly startedAt: number
  readonly endedAt: number
  /** The answering server's address (inet_server_addr), when acknowledged. */
  readonly server: string | undefined
}

export interface WriteReport {
  readonly attempts: number
  readonly acknowledged: number
  readonly failed: number
  /** Acknowledged ids missing from the table. */
  readonly lost: ReadonlyArray<number>
  /** Unacknowledged INSERTs that committed anyway (the acknowledgement was lost, not the row). */
  readonly committedUnacknowledged: number
  /** Ids present more than once (never possible with one writer per id unless replayed twice). */
  readonly duplicated: ReadonlyArray<number>
  /** Servers in the order they acknowledged; a server that comes back after another took over is a second writer. */
  readonly writers: ReadonlyArray<string>
  readonly doubleWriters: boolean
  /** Longest gap between two consecutive acknowledged INSERTs, and the time of the fault-side edge. */
  readonly unavailableMs: number
  readonly gapStartedAt: number
}

export interface WriteChecker {
  /** Stop the loop and return every attempt. */
  readonly stop: () => Promise<ReadonlyArray<Attempt>>
  /** Acknowledged INSERTs so far (polls the loop's output). */
  readonly acknowledgedSince: (t: number) => Promise<number>
}

export interface WriteOptions {
  readonly namespace: string
  readonly cluster?: string
  readonly table?: string
  /** The client pod (with psql, bash, GNU date). */
  readonly client?: string
}

const defaults = (o: WriteOptions) => ({
  namespace: o.namespace,
  cluster: o.cluster ?? "mycluster",
  table: o.table ?? "ha_writes",
  client: o.client ?? "client",
})

const psqlArgs = (host: string) => ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", host, "-U", "postgres", "-d", "postgres"]

/** Parses the loop's output lines: `<id> ok|fail <startMs> <endMs> [server]`. Pure. */
export const parseAttempts = (output: string): Array<Attempt> =>
  output.split("\n").flatMap((line) => {
    const [id, result, started, ended, server] = line.trim().split(/\s+/)
    if (id === undefined || started === undefined || ended === undefined || !/^\d+$/.test(id)) return []
    return [{ id: Number(id), ok: result === "ok", startedAt: Number(started), endedAt: Number(ended), server: server === "" ? undefined : server }]
  })

/** The report for `attempts` given the ids found in the table afterwards. Pure. */
export const report = (attempts: ReadonlyArray<Attempt>, present: ReadonlyArray<number>): WriteReport => {
  const found = new Map<number, number>()
  for (const id of present) found.set(id, (found.get(id) ?? 0) + 1)
  const acknowledged = attempts.filter((a) => a.ok).sort((a, b) => a.id - b.id)
  const writers: Array<string> = []
  let doubleWriters = false
  for (const a of acknowledged) {
    const server = a.server ?? "?"
    if (writers.at(-1) === server) continue
    if (writers.includes(server)) doubleWriters = true
    writers.push(server)
  }
  let unavailableMs = 0
  let gapStartedAt = 0
  for (let i = 1; i < acknowledged.length; i++) {
    const gap = acknowledged[i]!.endedAt - acknowledged[i - 1]!.endedAt
    if (gap > unavailableMs) {
      unavailableMs = gap
      gapStartedAt = acknowledged[i - 1]!.endedAt
    }
  }
  return {
    attempts: attempts.length,
    acknowledged: acknowledged.length,
    failed: attempts.length - acknowledged.length,
    lost: acknowledged.filter((a) => !found.has(a.id)).map((a) => a.id),
    committedUnacknowledged: attempts.filter((a) => !a.ok && found.has(a.id)).length,
    duplicated: [...found].filter(([, n]) => n > 1).map(([id]) => id),
    writers,
    doubleWriters,
    unavailableMs,
    gapStartedAt,
  }
}

/** Create the table the loop writes to (through -rw), waiting up to 30 s for -rw to answer. */
export const prepare = async (env: Environment, options: WriteOptions): Promise<void> => {
  const o = defaults(options)
  const create = [...psqlArgs(`${o.cluster}-rw`), "-c", `create table if not exists ${o.table} (id int not null, at timestamptz default now())`]
  const deadline = Date.now() + 30_000
  for (;;) {
    const r = await env.execIn(o.namespace, o.client, create)
    if (r.exitCode === 0) return
    if (Date.now() > deadline) throw new Error(`cannot create ${o.table}: ${r.stderr}`)
    await Bun.sleep(200)
  }
}

/** Start the INSERT loop in the client pod. */
export const start = (env: Environment, options: WriteOptions): WriteChecker => {
  const o = defaults(options)
  const tag = `${o.table}-${Date.now()}`
  const out = `/tmp/${tag}.log`
  const stopFile = `/tmp/${tag}.stop`
  // One connection per INSERT; connect_timeout bounds a connection to a vanished address.
  const script = `
i=0
while [ ! -e ${stopFile} ]; do
  i=$((i+1))
  s=$(date +%s%3N)
  if r=$(PGCONNECT_TIMEOUT=2 ${psqlArgs(`${o.cluster}-rw`).join(" ")} -c "insert into ${o.table}(id) values ($i) returning inet_server_addr()" 2>/dev/null); then
    echo "$i ok $s $(date +%s%3N) $(echo "$r" | head -1)" >> ${out}
  else
    echo "$i fail $s $(date +%s%3N)" >> ${out}
    sleep 0.05
  fi
done
echo done >> ${out}`
  const loop = env.execIn(o.namespace, o.client, ["bash", "-c", script])
  const read = async () => (await env.execIn(o.namespace, o.client, ["cat", out])).stdout
  return {
    stop: async () => {
      await env.execIn(o.namespace, o.client, ["touch", stopFile])
      await loop
      return parseAttempts(await read())
    },
    acknowledgedSince: async (t) => parseAttempts(await read()).filter((a) => a.ok && a.endedAt >= t).length,
  }
}

/** Read the table back through -rw and report. */
export const verify = async (env: Environment, options: WriteOptions, attempts: ReadonlyArray<Attempt>): Promise<WriteReport> => {
  const o = defaults(options)
  const r = await env.execIn(o.namespace, o.client, [...psqlArgs(`${o.cluster}-rw`), "-c", `select id from ${o.table}`])
  if (r.exitCode !== 0) throw new Error(`cannot read ${o.table}: ${r.stderr}`)
  return report(attempts, r.stdout.split("\n").filter((l) => l !== "").map(Number))
}
