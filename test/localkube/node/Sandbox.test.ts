/**
 * Pod sandboxes with real namespaces, as root, against a throwaway stand-in for the
 * cluster netns (no link off the machine), removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import * as Container from "./Container.ts"
import * as Sandbox from "./Sandbox.ts"

const netns = `lkt-sbx-${process.pid}`
const inCluster = ["ip", "netns", "exec", netns]
let dir = ""

const run = (argv: Array<string>) => {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" })
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lk-sandbox-"))
  expect(run(["ip", "netns", "add", netns]).code).toBe(0)
  run([...inCluster, "ip", "link", "set", "lo", "up"])
  run([...inCluster, "ip", "addr", "add", "10.240.0.11/32", "dev", "lo"])
})

afterAll(async () => {
  for (const podDir of Sandbox.findHolders(dir).keys()) await Effect.runPromise(Sandbox.destroy(podDir))
  run(["ip", "netns", "del", netns])
  rmSync(dir, { recursive: true, force: true })
})

describe("Sandbox", () => {
  test("a pod gets its own namespaces, private mounts, an IP, and leaves nothing behind", async () => {
    const podDir = join(dir, "pods", "uid-1")
    const data = join(dir, "pv")
    mkdirSync(data, { recursive: true })
    mkdirSync(podDir, { recursive: true })
    writeFileSync(join(podDir, "resolv.conf"), "nameserver 10.96.0.10\n")
    Bun.spawnSync(["chown", "101:104", data])
    const ip = "10.244.1.7"
    const info = await Effect.runPromise(
      Sandbox.create(
        podDir,
        {
          hostname: "pod-a",
          tmpfs: [],
          mounts: [
            { source: data, target: "/var/lib/postgresql/data", readOnly: false, file: false },
            { source: data, target: "/controller/ro", readOnly: true, file: false },
            { source: join(podDir, "resolv.conf"), target: "/etc/resolv.conf", readOnly: true, file: true },
          ],
        },
        ip,
        "10.240.0.11",
        inCluster,
      ),
    )
    // The host sees none of it.
    expect(existsSync("/controller")).toBe(false)
    expect(existsSync("/var/lib/postgresql/data")).toBe(false)
    expect(readFileSync("/etc/resolv.conf", "utf8")).not.toContain("10.96.0.10")

    const log = join(podDir, "c.log")
    const c = await Effect.runPromise(
      Container.start({
        holderPid: info.holderPid,
        argv: ["bash", "-c", "id -u; id -G; hostname; cat /etc/resolv.conf; echo hi > /var/lib/postgresql/data/f; touch /controller/ro/x 2>/dev/null || echo readonly; pwd; echo $FOO"],
        env: [["FOO", "bar"], ["PATH", "/usr/bin:/bin"]],
        workingDir: "/tmp",
        uid: 101,
        gid: 104,
        groups: [2000],
        logFile: log,
      }),
    )
    const exit = await c.exited
    expect(exit.exitCode).toBe(0)
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" ").slice(3).join(" "))
    expect(lines).toEqual(["101", "104 2000", "pod-a", "nameserver 10.96.0.10", "readonly", "/tmp", "bar"])
    expect(readFileSync(join(data, "f"), "utf8")).toBe("hi\n")
    expect(statSync(join(data, "f")).uid).toBe(101)

    // The pod's IP answers from the cluster netns.
    const server = await Effect.runPromise(
      Container.start({
        holderPid: info.holderPid,
        argv: ["python3", "-c", "import socket;s=socket.socket();s.bind(('0.0.0.0',8080));s.listen();c,a=s.accept();c.send(a[0].encode());c.close()"],
        env: [["PATH", "/usr/bin:/bin"]],
        workingDir: "/",
        uid: 0,
        gid: 0,
        groups: [],
        logFile: join(podDir, "s.log"),
      }),
    )
    let answer = ""
    for (let i = 0; i < 50 && answer === ""; i++) {
      answer = run([...inCluster, "python3", "-c", `import socket;c=socket.create_connection(('${ip}',8080),1);print(c.recv(100).decode())`]).out.trim()
      if (answer === "") await Bun.sleep(50)
    }
    expect(answer).toBe("10.240.0.11")
    await server.exited

    // A sleeping process dies with the holder; the veth goes with the namespace.
    const sleeper = await Effect.runPromise(
      Container.start({ holderPid: info.holderPid, argv: ["sleep", "1000"], env: [], workingDir: "/", uid: 0, gid: 0, groups: [], logFile: join(podDir, "z.log") }),
    )
    expect(Sandbox.isRunning(sleeper.pid)).toBe(true)
    await Effect.runPromise(Sandbox.destroy(podDir))
    const sleepExit = await sleeper.exited
    expect(sleepExit.exitCode).toBe(137)
    expect(Sandbox.isRunning(sleeper.pid)).toBe(false)
    expect(Sandbox.findHolders(dir).size).toBe(0)
    for (let i = 0; i < 50 && run([...inCluster, "ip", "link", "show", info.hostVeth]).code === 0; i++) await Bun.sleep(20)
    expect(run([...inCluster, "ip", "link", "show", info.hostVeth]).code).not.toBe(0)
  }, 30_000)
})
