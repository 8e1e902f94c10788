import { describe, expect, test } from "bun:test"
import { Duration } from "effect"
import * as Backoff from "./Backoff.ts"

const policy: Backoff.Policy = { base: Duration.millis(100), max: Duration.seconds(10), jitter: 0.5 }
const ms = (attempt: number, random: number) => Duration.toMillis(Backoff.delay(policy, attempt, random))

describe("Backoff", () => {
  test("doubles from the base up to the cap", () => {
    expect([0, 1, 2, 3, 6, 7, 100].map((a) => ms(a, 0))).toEqual([100, 200, 400, 800, 6400, 10000, 10000])
  })
  test("jitter only shortens, by at most its share", () => {
    expect(ms(3, 1)).toBe(400)
    for (let i = 0; i < 100; i++) {
      const d = ms(4, Math.random())
      expect(d).toBeGreaterThan(800 - 1)
      expect(d).toBeLessThanOrEqual(1600)
    }
  })
  test("spread stays within ±fraction", () => {
    expect(Duration.toMillis(Backoff.spread(Duration.seconds(10), 0.1, 0))).toBe(9000)
    expect(Duration.toMillis(Backoff.spread(Duration.seconds(10), 0.1, 1))).toBe(11000)
  })
})
