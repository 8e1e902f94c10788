import { describe, expect, test } from "bun:test"
import { Duration, Option } from "effect"
import * as KubeError from "./KubeError.ts"

const status = (code: number, reason: string, extra: object = {}) => ({
  kind: "Status", apiVersion: "v1", status: "Failure", message: `${reason} message`, reason, code, ...extra,
})

describe("KubeError.fromStatus", () => {
  test.each([
    [404, "NotFound", "NotFound"],
    [409, "AlreadyExists", "AlreadyExists"],
    [409, "Conflict", "Conflict"],
    [410, "Expired", "Gone"],
    [410, "Gone", "Gone"],
    [403, "Forbidden", "Forbidden"],
    [401, "Unauthorized", "Unauthorized"],
    [500, "InternalError", "Unavailable"],
    [504, "Timeout", "Unavailable"],
    [400, "BadRequest", "ApiError"],
    [415, "UnsupportedMediaType", "ApiError"],
  ])("HTTP %d %s is %s", (code, reason, tag) => {
    const e = KubeError.fromStatus(code, status(code, reason))
    expect(e._tag).toBe(tag as KubeError.KubeError["_tag"])
    expect(e.message).toBe(`${reason} message`)
  })

  test("Invalid carries its field causes", () => {
    const e = KubeError.fromStatus(422, status(422, "Invalid", {
      details: { name: "x", kind: "ConfigMap", causes: [{ reason: "FieldValueInvalid", message: "bad", field: "metadata.name" }] },
    }))
    expect(e._tag).toBe("Invalid")
    if (e._tag !== "Invalid") throw e
    expect(e.causes).toEqual([{ reason: "FieldValueInvalid", message: "bad", field: "metadata.name" }])
  })

  test("429 is Unavailable with retry-after from the header, else from the Status", () => {
    const fromHeader = KubeError.fromStatus(429, status(429, "TooManyRequests"), "7")
    const fromBody = KubeError.fromStatus(429, status(429, "TooManyRequests", { details: { retryAfterSeconds: 3 } }))
    if (fromHeader._tag !== "Unavailable" || fromBody._tag !== "Unavailable") throw new Error("not Unavailable")
    expect(Option.map(fromHeader.retryAfter, Duration.toSeconds)).toEqual(Option.some(7))
    expect(Option.map(fromBody.retryAfter, Duration.toSeconds)).toEqual(Option.some(3))
    expect(fromHeader.code).toBe(429)
  })

  test("a body that is no Status is classified by the HTTP code", () => {
    expect(KubeError.fromStatus(503, "<html>bad gateway</html>")._tag).toBe("Unavailable")
    expect(KubeError.fromStatus(404, undefined)._tag).toBe("NotFound")
    expect(KubeError.fromStatus(418, {}).message).toBe("HTTP 418")
  })

  test("network failures are transient", () => {
    const e = KubeError.fromNetwork(new TypeError("connection refused"))
    expect(KubeError.isTransient(e)).toBe(true)
    expect(e.message).toContain("connection refused")
  })
})
