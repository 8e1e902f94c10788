/**
 * Test harness for the instance manager: a temporary "cluster" of instances on loopback,
 * each run by a real `tusk instance` process as the postgres user (uid 101), sharing one
 * Cluster file and a directory of Secrets, with certificates made by openssl.
 * Everything it starts is stopped, and its directory removed, by `destroy()`.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { withFileLockSync } from "../../src/instance/FileSpecSource.ts"
import { tmpdir } from "node:os"
import { Schema } from "effect"
import postgres from "postgres"
import { PgStatus } from "../../src/instance/status/PgStatus.ts"

/** The Cluster document as the tests edit it. */
export interface ClusterDoc {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> }
  spec: {
    postgresql?: { parameters?: Record<string, string>; pg_hba?: Array<string> }
    monitoring?: { customQueriesConfigMap?: Array<{ name: string; key: string }> }
    [key: string]: unknown
  }
  status: {
    targetPrimary?: string
    currentPrimary?: string
    formerPrimaryStopped?: string
    instanceNames?: Array<string>
    [key: string]: unknown
  }
}

export const postgresUid = 101
export const postgresGid = 104
const repo = new URL("../..", import.meta.url).pathname
const bun = `${repo}node_modules/.bin/bun`
const main = `${repo}src/main.ts`
/** `tusk`: the compiled binary when TUSK_TEST_BIN names one, else src/main.ts under bun. */
export const tuskCommand: ReadonlyArray<string> = process.env["TUSK_TEST_BIN"] ? [process.env["TUSK_TEST_BIN"]] : [bun, main]
/** The executable `tusk bootstrap` copies. */
export const tuskExecutable: string = process.env["TUSK_TEST_BIN"] ?? bun

const sh = (argv: ReadonlyArray<string>, cwd: string) => {
  const r = Bun.spawnSync([...argv], { cwd, stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`)
  return r.stdout.toString()
}

const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
const serverExtensions = "subjectAltName=DNS:localhost,DNS:c-rw,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"

/** Issue a certificate signed by the CA in `dir` (ca.crt, ca.key). */
const issue = (dir: string, name: string, cn: string, ext: string) => {
  writeFileSync(`${dir}/${name}.ext`, ext)
  sh(["openssl", "req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir)
  sh(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`], dir)
}

/** A CA, a server certificate for loopback and a streaming_replica client certificate. */
const makeCertificates = (dir: string) => {
  sh(["openssl", "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=tusk-test-ca"], dir)
  issue(dir, "server", "c-rw", serverExtensions)
  issue(dir, "replication", "streaming_replica", "extendedKeyUsage=clientAuth\n")
  const read = (f: string) => readFileSync(`${dir}/${f}`, "utf8")
  return { ca: read("ca.crt"), serverCrt: read("server.crt"), serverKey: read("server.key"), replCrt: read("replication.crt"), replKey: read("replication.key") }
}

export interface InstancePorts {
  readonly pg: number
  readonly status: number
  readonly metrics: number
}

/** A `tusk instance` process. */
export interface Proc {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">
  readonly lines: Array<string>
  readonly exited: Promise<number>
}

export const appPassword = "app-Secret_pw'1"
export const superuserPassword = "super-Secret_pw2"

/** The S2 sample's spec, as the instance reads it. */
export const s2Spec = {
  instances: 3,
  postgresql: {
    parameters: { max_worker_processes: "40", timezone: "Asia/Seoul" },
    pg_hba: ["host all postgres all trust"]
  },
  enableSuperuserAccess: true,
  smartShutdownTimeout: 5,
  stopDelay: 30,
  bootstrap: { initdb: { database: "app", encoding: "UTF8", localeCType: "C", localeCollate: "C", owner: "app" } }
}

export class TestCluster {
  readonly dir: string
  readonly clusterFile: string
  readonly objectsDir: string
  readonly ca: string
  readonly names: ReadonlyArray<string>
  readonly ports: ReadonlyMap<string, InstancePorts>
  readonly procs: Array<Proc> = []
  /** Plays the operator's part in a hand-over: confirms the former primary stopped. */
  private readonly confirmer = setInterval(() => void this.confirmFormerPrimaryStopped(), 100)
  private confirming = false
  /** Whether the harness confirms stops as the operator does (off: only the instances report them). */
  operatorConfirms = true

  constructor(readonly instances = 3, spec: object = s2Spec) {
    this.dir = mkdtempSync(`${tmpdir()}/tusk-instance-`)
    chmodSync(this.dir, 0o755)
    this.clusterFile = `${this.dir}/cluster.json`
    this.objectsDir = `${this.dir}/objects`
    mkdirSync(`${this.dir}/pki`)
    const certs = makeCertificates(`${this.dir}/pki`)
    this.ca = certs.ca
    this.names = Array.from({ length: instances }, (_, i) => `c-${i + 1}`)
    // Ports spread by pid so parallel runs on this machine do not collide.
    const base = 20000 + (process.pid % 400) * 100
    this.ports = new Map(this.names.map((n, i) => [n, { pg: base + i, status: base + 10 + i, metrics: base + 20 + i }]))
    const objects: Record<string, Record<string, string>> = {
      "c-ca": { "ca.crt": certs.ca },
      "c-server": { "tls.crt": certs.serverCrt, "tls.key": certs.serverKey },
      "c-replication": { "tls.crt": certs.replCrt, "tls.key": certs.replKey },
      "c-app": { username: "app", password: appPassword },
      "c-superuser": { username: "postgres", password: superuserPassword }
    }
    for (const [name, data] of Object.entries(objects)) this.writeObject(name, data)
    this.writeCluster({
      apiVersion: "postgresql.tusk.dev/v1",
      kind: "Cluster",
      metadata: { name: "c", namespace: "default" },
      spec,
      status: { targetPrimary: "c-1", instanceNames: this.names }
    })
    for (const n of this.names) mkdirSync(`${this.dir}/${n}`, { recursive: true })
    sh(["chown", "-R", `${postgresUid}:${postgresGid}`, this.dir], this.dir)
  }

  /** Issue a new server certificate (same CA) into the `c-server` Secret; returns its serial. */
  renewServerCertificate(): string {
    const pki = `${this.dir}/pki`
    issue(pki, "server", "c-rw", serverExtensions)
    this.writeObject("c-server", { "tls.crt": readFileSync(`${pki}/server.crt`, "utf8"), "tls.key": readFileSync(`${pki}/server.key`, "utf8") })
    return sh(["openssl", "x509", "-noout", "-serial", "-in", `${pki}/server.crt`], pki).trim()
  }

  /** Serial of the certificate a TLS server presents (`starttls` "postgres" for PostgreSQL). */
  presentedSerial(port: number, starttls?: "postgres"): string {
    const connect = Bun.spawnSync(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, ...(starttls ? ["-starttls", starttls] : [])], { stdin: new Uint8Array(), stdout: "pipe", stderr: "pipe" })
    const parsed = Bun.spawnSync(["openssl", "x509", "-noout", "-serial"], { stdin: connect.stdout, stdout: "pipe", stderr: "pipe" })
    return parsed.stdout.toString().trim()
  }

  /** Write a Secret or ConfigMap. */
  writeObject(name: string, data: Record<string, string>) {
    mkdirSync(`${this.objectsDir}/${name}`, { recursive: true })
    for (const [k, v] of Object.entries(data)) writeFileSync(`${this.objectsDir}/${name}/${k}`, v)
    sh(["chown", "-R", `${postgresUid}:${postgresGid}`, this.objectsDir], this.dir)
  }

  readCluster(): ClusterDoc {
    return JSON.parse(readFileSync(this.clusterFile, "utf8")) as ClusterDoc
  }

  private replaceCluster(doc: unknown) {
    const tmp = `${this.clusterFile}.test.tmp`
    writeFileSync(tmp, JSON.stringify(doc, null, 2))
    chownSync(tmp, postgresUid, postgresGid)
    Bun.spawnSync(["mv", tmp, this.clusterFile])
  }

  /** Replace the Cluster file atomically (as an API server update), under the writers' lock. */
  writeCluster(doc: unknown) {
    withFileLockSync(this.clusterFile, () => this.replaceCluster(doc))
  }

  /** Edit the Cluster: `f` mutates a copy of the current document; no instance writes in between. */
  updateCluster(f: (doc: ClusterDoc) => void) {
    withFileLockSync(this.clusterFile, () => {
      const doc = this.readCluster()
      f(doc)
      this.replaceCluster(doc)
    })
  }

  pgdata(name: string) {
    return `${this.dir}/${name}/data/pgdata`
  }

  args(name: string): ReadonlyArray<string> {
    const p = this.ports.get(name)!
    return [
      "--instance-name", name,
      "--pgdata", this.pgdata(name),
      "--socket-dir", `${this.dir}/${name}/run`,
      "--cert-dir", `${this.dir}/${name}/certificates`,
      "--port", String(p.pg),
      "--listen-addresses", "127.0.0.1",
      "--http-host", "127.0.0.1",
      "--status-port", String(p.status),
      "--metrics-port", String(p.metrics),
      "--cluster-file", this.clusterFile,
      "--objects-dir", this.objectsDir,
      ...this.names.filter((n) => n !== name).flatMap((n) => ["--peer", `${n}=127.0.0.1:${this.ports.get(n)!.pg}`])
    ]
  }

  /** Start `tusk instance <command>` for an instance, as the postgres user. */
  spawn(command: "init" | "join" | "run", name: string): Proc {
    const args = [...tuskCommand, "instance", command, ...this.args(name)]
    const proc = Bun.spawn(args, {
      uid: postgresUid,
      gid: postgresGid,
      cwd: this.dir,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: this.dir, TZ: "UTC" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    const lines: Array<string> = []
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder()
      let rest = ""
      for await (const chunk of stream) {
        rest += decoder.decode(chunk, { stream: true })
        const parts = rest.split("\n")
        rest = parts.pop() ?? ""
        lines.push(...parts)
        if (process.env["TUSK_TEST_VERBOSE"]) for (const l of parts) console.log(`[${name}] ${l}`)
      }
      if (rest !== "") lines.push(rest)
    }
    const done = Promise.all([collect(proc.stdout), collect(proc.stderr)])
    const p: Proc = { name, args, proc, lines, exited: done.then(() => proc.exited) }
    this.procs.push(p)
    return p
  }

  /** Run `init` or `join` to completion. */
  async runToEnd(command: "init" | "join", name: string): Promise<Proc> {
    const p = this.spawn(command, name)
    const code = await p.exited
    if (code !== 0) throw new Error(`instance ${command} ${name} exited ${code}:\n${p.lines.slice(-30).join("\n")}`)
    return p
  }

  /** SQL over TCP with TLS (postgres is trusted by the S2 pg_hba rule). */
  sql(name: string, options: Partial<postgres.Options<{}>> = {}) {
    return postgres({
      host: "127.0.0.1",
      port: this.ports.get(name)!.pg,
      user: "postgres",
      database: "postgres",
      ssl: { rejectUnauthorized: false },
      max: 1,
      idle_timeout: 1,
      connect_timeout: 3,
      onnotice: () => {},
      ...options
    })
  }

  /** One query on a fresh connection (closed right after, so smart shutdowns are not held). */
  async once<T>(name: string, f: (sql: postgres.Sql) => Promise<T>, options: Partial<postgres.Options<{}>> = {}): Promise<T> {
    const sql = this.sql(name, options)
    try {
      return await f(sql)
    } finally {
      await sql.end({ timeout: 1 })
    }
  }

  /** GET on the status API (TLS, verified against the test CA). */
  async status(name: string, path = "/pg/status"): Promise<Response> {
    return fetch(`https://127.0.0.1:${this.ports.get(name)!.status}${path}`, { tls: { ca: this.ca, checkServerIdentity: () => undefined } })
  }

  async pgStatus(name: string): Promise<PgStatus> {
    const r = await this.status(name)
    return Schema.decodeUnknownSync(PgStatus)(await r.json())
  }

  async metrics(name: string): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.ports.get(name)!.metrics}/metrics`)).text()
  }

  /** Stop a process with SIGTERM and wait for it; returns its exit code and how long it took. */
  async terminate(p: Proc, timeoutMs = 60_000): Promise<{ code: number; ms: number }> {
    const started = performance.now()
    p.proc.kill("SIGTERM")
    const code = await Promise.race([p.exited, Bun.sleep(timeoutMs).then(() => -1)])
    if (code === -1) p.proc.kill("SIGKILL")
    return { code, ms: performance.now() - started }
  }

  /** Stop everything this cluster started and remove its directory. */
  /**
   * As the operator does: once the primary being replaced no longer runs PostgreSQL (or no
   * longer answers), record it in `status.formerPrimaryStopped` so the target may promote.
   */
  private async confirmFormerPrimaryStopped() {
    if (this.confirming || !this.operatorConfirms) return
    this.confirming = true
    try {
      const { targetPrimary: target, currentPrimary: current, formerPrimaryStopped } = this.readCluster().status
      if (target === undefined || current === undefined || target === current || formerPrimaryStopped === current) return
      const running = await Promise.race([
        this.pgStatus(current).then((s) => s.postmasterRunning, () => false),
        Bun.sleep(1_000).then(() => false),
      ])
      if (!running) this.updateCluster((d) => void (d.status.formerPrimaryStopped = current))
    } catch {
      // The file is being rewritten: look again on the next tick.
    } finally {
      this.confirming = false
    }
  }

  async destroy() {
    clearInterval(this.confirmer)
    for (const p of this.procs) if (p.proc.exitCode === null) p.proc.kill("SIGTERM")
    await Promise.race([Promise.all(this.procs.map((p) => p.exited)), Bun.sleep(40_000)])
    for (const p of this.procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL")
    // A postmaster outlives a SIGKILLed manager: stop it by the pid in its own pid file.
    for (const n of this.names) {
      for (const dir of [this.pgdata(n), `${this.pgdata(n)}.clone`, `${this.pgdata(n)}.initdb`]) {
        try {
          const pid = Number(readFileSync(`${dir}/postmaster.pid`, "utf8").split("\n")[0])
          if (pid > 0) process.kill(pid, "SIGQUIT")
        } catch {
          // no postmaster
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** JSON log records of a process. */
  logs(p: Proc): Array<Record<string, unknown>> {
    return p.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  }

  walFiles(name: string) {
    return readdirSync(`${this.pgdata(name)}/pg_wal`).filter((f) => /^[0-9A-F]{24}$/.test(f))
  }
}

/** Poll `f` until it returns a value other than undefined (or throws on timeout). */
export const eventually = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await f()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    await Bun.sleep(everyMs)
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
}
