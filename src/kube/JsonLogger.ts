/**
 * One JSON object per log line, annotations flattened to top-level fields (controller,
 * namespace, name, reconcileID, ...), so `kubectl logs | jq` works without a schema.
 */
import { Cause, HashMap, Inspectable, Layer, List, Logger } from "effect"

/** The JSON line for one log call. */
export const format = Logger.make(({ annotations, cause, date, logLevel, message, spans }) => {
  const line: Record<string, unknown> = {
    time: date.toISOString(),
    level: logLevel.label.toLowerCase(),
    msg: Array.isArray(message) ? message.map((m) => (typeof m === "string" ? m : Inspectable.toStringUnknown(m))).join(" ") : Inspectable.toStringUnknown(message),
  }
  for (const [k, v] of HashMap.toEntries(annotations)) line[k] = v
  if (!Cause.isEmpty(cause)) line.error = Cause.pretty(cause, { renderErrorCause: true })
  const span = List.head(spans)
  if (span._tag === "Some") line.span = span.value.label
  return JSON.stringify(line)
})

/** JSON lines on stdout instead of the default logger and of the pretty one `runMain` installs. */
export const layer = Layer.merge(
  Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(format)),
  Logger.remove(Logger.prettyLoggerDefault),
)
