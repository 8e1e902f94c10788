/** PostgreSQL's stderr as JSON lines on stdout, tagged with the instance's name. */

/** Fields of one log line written with Tusk's `log_line_prefix` (`%m [%p] %q%u@%d `). */
export interface PostgresLogRecord {
  readonly ts?: string
  readonly pid?: number
  readonly user?: string
  readonly database?: string
  readonly severity?: string
  readonly msg: string
}

const linePattern = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(\d+)\] (?:(\S*)@(\S*) )?([A-Z0-9]+):\s+(.*)$/

/** Split a line into its prefix fields; lines that do not match (continuations) keep only `msg`. */
export const parseLogLine = (line: string): PostgresLogRecord => {
  const m = linePattern.exec(line)
  if (m === null) return { msg: line }
  const [, ts, pid, user, database, severity, msg] = m
  return {
    ...(ts !== undefined ? { ts } : {}),
    ...(pid !== undefined ? { pid: Number(pid) } : {}),
    ...(user ? { user } : {}),
    ...(database ? { database } : {}),
    ...(severity !== undefined ? { severity } : {}),
    msg: msg ?? ""
  }
}

/** One JSON line for a PostgreSQL log line. */
export const toJsonLine = (instance: string, line: string): string =>
  JSON.stringify({ logger: "postgres", instance, ...parseLogLine(line) }) + "\n"

/** Copy a byte stream line by line to stdout as JSON lines. */
export const forward = async (stream: ReadableStream<Uint8Array>, instance: string): Promise<void> => {
  const decoder = new TextDecoder()
  let buffered = ""
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true })
    let nl = buffered.indexOf("\n")
    while (nl >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (line !== "") process.stdout.write(toJsonLine(instance, line))
      nl = buffered.indexOf("\n")
    }
  }
  if (buffered !== "") process.stdout.write(toJsonLine(instance, buffered))
}
