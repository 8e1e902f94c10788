import { afterAll, describe, expect, test } from "bun:test"
import { Effect, Either, Option } from "effect"
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KubeConfig from "./KubeConfig.ts"

const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const b64 = (s: string) => Buffer.from(s).toString("base64")

writeFileSync(join(dir, "ca.crt"), "CA FROM FILE")
writeFileSync(join(dir, "token"), "file-token\n")
const first = join(dir, "first.yaml")
writeFileSync(first, `
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: local
  cluster:
    server: https://10.240.0.1:6443/
    certificate-authority: ca.crt
- name: other
  cluster:
    server: https://other:443
    certificate-authority-data: ${b64("CA INLINE")}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    client-certificate-data: ${b64("CERT")}
    client-key-data: ${b64("KEY")}
- name: sa
  user:
    tokenFile: token
contexts:
- name: admin
  context: { cluster: local, user: admin, namespace: tusk-system }
- name: sa
  context: { cluster: other, user: sa }
`)
const second = join(dir, "second.yaml")
writeFileSync(second, `
current-context: ignored
clusters:
- name: local
  cluster: { server: https://shadowed:1 }
users:
- name: static
  user: { token: abc }
contexts:
- name: static
  context: { cluster: local, user: static }
`)

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

describe("KubeConfig", () => {
  test("a client-certificate context resolves files relative to the kubeconfig", async () => {
    const c = Either.getOrThrow(await run(KubeConfig.fromKubeconfigFiles([first])))
    expect(c.server).toBe("https://10.240.0.1:6443")
    expect(c.ca).toBe("CA FROM FILE")
    expect([c.cert, c.key]).toEqual(["CERT", "KEY"])
    expect(c.namespace).toBe("tusk-system")
    expect(Option.isNone(await Effect.runPromise(c.token))).toBe(true)
  })

  test("a token file is re-read on every use", async () => {
    const c = Either.getOrThrow(await run(KubeConfig.fromKubeconfigFiles([first], "sa")))
    expect(c.ca).toBe("CA INLINE")
    expect(c.insecureSkipTlsVerify).toBe(true)
    expect(await Effect.runPromise(c.token)).toEqual(Option.some("file-token"))
    writeFileSync(join(dir, "token"), "rotated")
    expect(await Effect.runPromise(c.token)).toEqual(Option.some("rotated"))
  })

  test("KUBECONFIG merges files: the first to set a name or the current context wins", async () => {
    const c = Either.getOrThrow(await run(KubeConfig.resolve({ kubeconfigEnv: `${join(dir, "missing.yaml")}:${first}:${second}`, context: "static" })))
    expect(c.server).toBe("https://10.240.0.1:6443")
    expect(await Effect.runPromise(c.token)).toEqual(Option.some("abc"))
    const d = Either.getOrThrow(await run(KubeConfig.resolve({ kubeconfigEnv: `${second}:${first}`, context: "admin" })))
    expect(d.server).toBe("https://shadowed:1")
    const e = await run(KubeConfig.resolve({ kubeconfigEnv: `${second}:${first}` }))
    expect(Either.isLeft(e) && e.left.message).toContain("context ignored not found")
  })

  test("--kubeconfig beats KUBECONFIG, which beats in-cluster, which beats ~/.kube/config", async () => {
    const sa = join(dir, "sa")
    mkdirSync(sa)
    writeFileSync(join(sa, "ca.crt"), "POD CA")
    writeFileSync(join(sa, "token"), "pod-token")
    writeFileSync(join(sa, "namespace"), "tusk-system")
    const home = join(dir, "home")
    mkdirSync(join(home, ".kube"), { recursive: true })
    writeFileSync(join(home, ".kube", "config"), (await Bun.file(second).text()).replace("current-context: ignored", "current-context: static"))
    const pod = { serviceHost: "10.96.0.1", servicePort: "443", serviceAccountDir: sa }
    const all = { kubeconfig: second, context: "static", kubeconfigEnv: first, home, ...pod }
    expect(Either.getOrThrow(await run(KubeConfig.resolve(all))).server).toBe("https://shadowed:1")
    expect(Either.getOrThrow(await run(KubeConfig.resolve({ ...all, kubeconfig: undefined, context: undefined }))).server).toBe("https://10.240.0.1:6443")
    const inPod = Either.getOrThrow(await run(KubeConfig.resolve({ home, ...pod })))
    expect([inPod.server, inPod.ca, inPod.namespace]).toEqual(["https://10.96.0.1:443", "POD CA", "tusk-system"])
    expect(await Effect.runPromise(inPod.token)).toEqual(Option.some("pod-token"))
    expect(Either.getOrThrow(await run(KubeConfig.resolve({ home }))).server).toBe("https://shadowed:1")
  })

  test("IPv6 service hosts are bracketed", async () => {
    const sa = join(dir, "sa6")
    mkdirSync(sa)
    writeFileSync(join(sa, "ca.crt"), "CA")
    const c = Either.getOrThrow(await run(KubeConfig.inCluster("fd00::1", "443", sa)))
    expect(c.server).toBe("https://[fd00::1]:443")
    expect(c.namespace).toBe("default")
  })

  test("missing pieces are errors that say what is missing", async () => {
    const none = await run(KubeConfig.resolve({}))
    expect(Either.isLeft(none) && none.left.message).toContain("no kubeconfig found")
    const ctx = await run(KubeConfig.fromKubeconfigFiles([first], "nope"))
    expect(Either.isLeft(ctx) && ctx.left.message).toContain("context nope not found")
    const bad = join(dir, "bad.yaml")
    writeFileSync(bad, "clusters: 7\n")
    const parsed = await run(KubeConfig.fromKubeconfigFiles([bad]))
    expect(Either.isLeft(parsed) && parsed.left._tag).toBe("KubeConfigError")
  })
})
