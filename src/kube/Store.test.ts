import { describe, expect, test } from "bun:test"
import { Store } from "./Store.ts"

const obj = (name: string, uid: string, rv: string, labels: Record<string, string> = {}) => ({
  metadata: { name, namespace: "ns", uid, resourceVersion: rv, labels },
})
type Obj = ReturnType<typeof obj>
const tags = (changes: ReadonlyArray<{ _tag: string; object: Obj }>) => changes.map((c) => `${c._tag} ${c.object.metadata.name}@${c.object.metadata.resourceVersion}`)

describe("Store", () => {
  test("upsert reports Added, then Modified, and ignores a repeated version", () => {
    const s = new Store<Obj>()
    expect(tags(s.upsert(obj("a", "u1", "1")))).toEqual(["Added a@1"])
    expect(tags(s.upsert(obj("a", "u1", "2")))).toEqual(["Modified a@2"])
    expect(s.upsert(obj("a", "u1", "2"))).toEqual([])
    expect(s.get("ns/a")?.metadata.resourceVersion).toBe("2")
  })

  test("a new UID under the same name is a delete and an add", () => {
    const s = new Store<Obj>()
    s.upsert(obj("a", "u1", "1"))
    expect(tags(s.upsert(obj("a", "u2", "5")))).toEqual(["Deleted a@1", "Added a@5"])
  })

  test("replace diffs by UID and resourceVersion", () => {
    const s = new Store<Obj>()
    s.replace([obj("keep", "k", "1"), obj("change", "c", "1"), obj("gone", "g", "1"), obj("recreated", "r1", "1")])
    const changes = s.replace([obj("keep", "k", "1"), obj("change", "c", "7"), obj("recreated", "r2", "8"), obj("new", "n", "9")])
    expect(tags(changes).sort()).toEqual(["Added new@9", "Added recreated@8", "Deleted gone@1", "Deleted recreated@1", "Modified change@7"])
    expect(s.values().map((o) => o.metadata.name).sort()).toEqual(["change", "keep", "new", "recreated"])
  })

  test("the label index follows label changes and deletions", () => {
    const s = new Store<Obj>(["tusk.dev/cluster"])
    s.upsert(obj("p1", "1", "1", { "tusk.dev/cluster": "c" }))
    s.upsert(obj("p2", "2", "1", { "tusk.dev/cluster": "c" }))
    s.upsert(obj("q1", "3", "1", { "tusk.dev/cluster": "d" }))
    const names = (v: string) => s.byLabel("tusk.dev/cluster", v).map((o) => o.metadata.name).sort()
    expect(names("c")).toEqual(["p1", "p2"])
    s.upsert(obj("p2", "2", "2", { "tusk.dev/cluster": "d" }))
    expect(names("c")).toEqual(["p1"])
    expect(names("d")).toEqual(["p2", "q1"])
    s.delete(obj("q1", "3", "3"))
    expect(names("d")).toEqual(["p2"])
    s.replace([])
    expect(names("c")).toEqual([])
    expect(() => s.byLabel("other", "x")).toThrow()
  })

  test("delete of an unknown object changes nothing", () => {
    expect(new Store<Obj>().delete(obj("x", "u", "1"))).toEqual([])
  })
})
