/**
 * When a standby restarts its WAL receiver. PostgreSQL bounds a streaming connection
 * (wal_receiver_timeout) but not one that is still connecting: a frozen host's kernel
 * accepts the TCP connection and the TLS handshake then never ends, so the receiver would
 * wait forever for a primary that is gone while the new one is a reconnect away. Pure.
 */

/** Since when the receiver has not been streaming, and which primary was recorded then. */
export interface ReceiverWatch {
  readonly since: number
  readonly primary: string | undefined
}

/** As long as wal_receiver_timeout: a connection that has not streamed by then is not going to. */
export const stallMs = 5_000

export interface ReceiverObservation {
  readonly streaming: boolean
  /** `status.currentPrimary` as the standby sees it now. */
  readonly primary: string | undefined
  readonly now: number
}

/** The watch to keep, and whether to restart the receiver now. */
export const next = (watch: ReceiverWatch | undefined, o: ReceiverObservation): { readonly watch: ReceiverWatch | undefined; readonly restart: boolean } => {
  if (o.streaming) return { watch: undefined, restart: false }
  if (watch === undefined) return { watch: { since: o.now, primary: o.primary }, restart: false }
  // A new primary recorded: whatever the receiver is waiting on is the old one.
  if (o.primary !== watch.primary || o.now - watch.since >= stallMs) return { watch: { since: o.now, primary: o.primary }, restart: true }
  return { watch, restart: false }
}
