import { describe, expect, test } from "bun:test"
import { operatorBinaryPath, parseImage, resolveImage } from "./Images.ts"

const bin = "/repo/dist/tusk"

describe("Images", () => {
  test("parses repository and tag, with registry ports and digests", () => {
    expect(parseImage("ghcr.io/cloudnative-pg/postgresql:15.3")).toEqual({ repository: "ghcr.io/cloudnative-pg/postgresql", tag: "15.3" })
    expect(parseImage("localhost:5000/tusk")).toEqual({ repository: "localhost:5000/tusk", tag: "latest" })
    expect(parseImage("postgres:15@sha256:abc")).toEqual({ repository: "postgres", tag: "15" })
  })

  test("PostgreSQL images put PostgreSQL 15 first on PATH", () => {
    for (const image of ["ghcr.io/cloudnative-pg/postgresql:15.3", "postgres:15", "docker.io/library/postgres:16", "example.com/x/postgresql:1"]) {
      expect(resolveImage(image, bin)?.path.split(":")[0]).toBe("/usr/lib/postgresql/15/bin")
      expect(resolveImage(image, bin)?.kind).toBe("postgresql")
    }
  })

  test("the operator image provides the compiled binary", () => {
    for (const image of ["ghcr.io/tusk-dev/tusk:0.1.0", "tusk:dev"]) {
      expect(resolveImage(image, bin)?.binaries).toEqual([{ target: operatorBinaryPath, source: bin }])
    }
  })

  test("the client image has psql on PATH", () => {
    expect(resolveImage("tusk.dev/client:latest", bin)?.path).toContain("/usr/lib/postgresql/15/bin")
  })

  test("unknown images do not exist", () => {
    expect(resolveImage("nginx:1.25", bin)).toBeUndefined()
    expect(resolveImage("ghcr.io/tusk-dev/tusk-typo:1", bin)).toBeUndefined()
  })
})
