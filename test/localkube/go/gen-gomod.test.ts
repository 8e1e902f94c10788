import { describe, expect, test } from "bun:test"
import { join } from "node:path"
import * as Layout from "../layout.ts"
import { kubeTools, renderGoMod, stagingModules, stagingVersion } from "./gen-gomod.ts"

const committed = await Bun.file(join(import.meta.dir, "kube", "go.mod")).text()

describe("gen-gomod", () => {
  test("finds the staging replaces of a Kubernetes go.mod", () => {
    const upstream = "replace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming\n\tfoo.io/x => foo.io/x v1.0.0\n)\n"
    expect(stagingModules(upstream)).toEqual(["k8s.io/api", "k8s.io/cri-streaming"])
    expect(stagingVersion("v1.37.2")).toBe("v0.37.2")
  })

  test("the committed go.mod pins the version layout.ts names, with every replace at the staging version", () => {
    // go mod tidy lists it as indirect: only the tool directives use it.
    expect(committed).toMatch(new RegExp(`^\\s*(require\\s+)?k8s\\.io/kubernetes ${Layout.kubernetesVersion.replaceAll(".", "\\.")}( |$)`, "m"))
    const replaces = [...committed.matchAll(/^\t(k8s\.io\/[\w.-]+) => (\S+) (\S+)$/gm)]
    expect(replaces.length).toBeGreaterThanOrEqual(33)
    for (const [, from, to, version] of replaces) {
      expect(to).toBe(from)
      expect(version).toBe(stagingVersion(Layout.kubernetesVersion))
    }
    for (const tool of kubeTools) expect(committed).toContain(`tool ${tool}\n`)
  })

  test("the committed replace block is exactly what the generator renders from upstream", () => {
    const dl = Bun.spawnSync(["go", "mod", "download", "-json", `k8s.io/kubernetes@${Layout.kubernetesVersion}`], {
      env: { ...process.env, GOWORK: "off", GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
    })
    expect(dl.exitCode).toBe(0)
    const upstream = require("node:fs").readFileSync(JSON.parse(dl.stdout.toString()).GoMod, "utf8") as string
    const rendered = renderGoMod(Layout.kubernetesVersion, "1.26.0", stagingModules(upstream))
    const block = (s: string) => s.slice(s.indexOf("replace ("), s.indexOf(")", s.indexOf("replace (")) + 1)
    expect(block(committed)).toBe(block(rendered))
  })
})
