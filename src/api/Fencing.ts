/**
 * Timing that the operator and the instances must agree on for a hand-over to be safe.
 * An instance running a primary that can reach neither the API server nor any other
 * instance stops PostgreSQL within `isolationTimeoutMs`; the operator treats a former
 * primary it cannot reach as stopped only after `unreachableStoppedAfterMs` since it named
 * a new target, which is longer.
 */

/** A primary cut off from the API server and from every peer for this long stops itself. */
export const isolationTimeoutMs = 5_000

/** A former primary unreachable for this long after the hand-over began has stopped itself. */
export const unreachableStoppedAfterMs = 2 * isolationTimeoutMs
