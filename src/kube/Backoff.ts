/**
 * Exponential back-off with jitter, as a pure function of the attempt number, so the
 * informer, the work queue and leader election share one tested rule.
 */
import { Duration } from "effect"

/** Shape of a back-off: first delay, ceiling, and the jittered share of each delay. */
export interface Policy {
  readonly base: Duration.Duration
  readonly max: Duration.Duration
  /** 0 = no jitter; 0.5 = each delay is uniformly drawn from [d/2, d]. */
  readonly jitter: number
}

/** Delay before retry number `attempt` (0-based): base·2^attempt, capped, then jittered down. */
export const delay = (policy: Policy, attempt: number, random: number = Math.random()): Duration.Duration => {
  const base = Duration.toMillis(policy.base)
  const max = Duration.toMillis(policy.max)
  const capped = Math.min(max, base * 2 ** Math.min(attempt, 52))
  return Duration.millis(capped * (1 - policy.jitter * random))
}

/** Spread a nominal duration by ±fraction, to keep many clients from acting in step. */
export const spread = (d: Duration.Duration, fraction: number, random: number = Math.random()): Duration.Duration =>
  Duration.millis(Duration.toMillis(d) * (1 + fraction * (2 * random - 1)))
