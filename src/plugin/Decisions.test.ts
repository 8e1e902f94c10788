import { describe, expect, test } from "bun:test"
import { Either, Schema } from "effect"
import { checkPromote, editFencing, pickPsqlInstance, redactSecret } from "./Decisions.ts"
import { StatusReport } from "./status/Model.ts"

const fixture = async (name: string) =>
  Schema.decodeUnknownSync(StatusReport)(JSON.parse(await Bun.file(new URL(`status/fixtures/${name}.json`, import.meta.url)).text()))
const refusal = (e: Either.Either<void, string>) => (Either.isLeft(e) ? e.left : "allowed")

describe("promote", async () => {
  const healthy = await fixture("healthy")
  test("a ready streaming replica may be promoted", () => {
    expect(refusal(checkPromote(healthy, "mycluster-2"))).toBe("allowed")
  })
  test("refusals say what to do", async () => {
    expect(refusal(checkPromote(healthy, "mycluster-9"))).toBe("mycluster-9 is not an instance of Cluster mycluster (instances: mycluster-1, mycluster-2, mycluster-3)")
    expect(refusal(checkPromote(healthy, "mycluster-1"))).toBe("mycluster-1 is already the primary")
    expect(refusal(checkPromote(await fixture("switchover"), "mycluster-2"))).toContain("a hand-over to mycluster-1 is already in progress")
    expect(refusal(checkPromote(await fixture("fenced"), "mycluster-2"))).toContain("kubectl tusk fencing off mycluster mycluster-2")
    expect(refusal(checkPromote(await fixture("pending"), "mycluster-1"))).toContain("not ready (pod Pending")
  })
})

describe("fencing annotation", () => {
  const all = ["pg-1", "pg-2", "pg-3"]
  test("on adds, off removes, the last one off removes the annotation", () => {
    expect(editFencing([], true, "pg-2", all)).toBe("pg-2")
    expect(editFencing(["pg-2"], true, "pg-1", all)).toBe("pg-1,pg-2")
    expect(editFencing(["pg-1", "pg-2"], false, "pg-1", all)).toBe("pg-2")
    expect(editFencing(["pg-2"], false, "pg-2", all)).toBeUndefined()
  })
  test("* fences all; lifting one out of * names the others", () => {
    expect(editFencing(["pg-1"], true, "*", all)).toBe("*")
    expect(editFencing(["*"], true, "pg-1", all)).toBe("*")
    expect(editFencing(["*"], false, "pg-2", all)).toBe("pg-1,pg-3")
    expect(editFencing(["*"], false, "*", all)).toBeUndefined()
  })
})

describe("psql target", async () => {
  test("the primary, or a ready unfenced replica", async () => {
    expect(pickPsqlInstance(await fixture("healthy"), false)).toEqual(Either.right("mycluster-1"))
    expect(pickPsqlInstance(await fixture("healthy"), true)).toEqual(Either.right("mycluster-2"))
    expect(pickPsqlInstance(await fixture("fenced"), true)).toEqual(Either.right("mycluster-3"))
  })
})

describe("report redaction", () => {
  test("keys stay, values go, including kubectl's last-applied copy", () => {
    const s = redactSecret({
      kind: "Secret",
      metadata: { name: "s", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"c2VjcmV0\"}}", keep: "me" } },
      data: { username: "YXBw", password: "c2VjcmV0" },
    })
    expect(s["data"]).toEqual({ username: "<redacted>", password: "<redacted>" })
    expect(JSON.stringify(s)).not.toContain("c2VjcmV0")
    expect((s["metadata"] as { annotations: Record<string, string> }).annotations.keep).toBe("me")
  })
})
