import { describe, expect, test } from "bun:test"
import { scramVerifier } from "./Scram.ts"

describe("scramVerifier", () => {
  test("has PostgreSQL's format and depends on the salt", () => {
    const salt = new Uint8Array(16).fill(7)
    const v = scramVerifier("secret", salt)
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/)
    expect(scramVerifier("secret", salt)).toBe(v)
    expect(scramVerifier("secret", new Uint8Array(16).fill(8))).not.toBe(v)
    expect(scramVerifier("other", salt)).not.toBe(v)
  })
  test("matches a known verifier (the RFC 7677 password and salt, as PostgreSQL stores it)", () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64")
    expect(scramVerifier("pencil", salt)).toBe(`SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=`)
  })
})
