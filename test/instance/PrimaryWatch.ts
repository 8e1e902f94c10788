/** Watches a test cluster and records every moment more than one instance accepted writes. */
import type { TestCluster } from "./Harness.ts"

export class PrimaryWatch {
  readonly overlaps: Array<{ at: number; primaries: ReadonlyArray<string> }> = []
  samples = 0
  private running = true
  private readonly loop: Promise<void>

  constructor(cluster: TestCluster, everyMs = 100) {
    this.loop = (async () => {
      while (this.running) {
        // psql, one process per probe: a refused or reset connection is just "not writable".
        const answers = await Promise.all(cluster.names.map(async (n) => {
          const port = cluster.ports.get(n)!.pg
          const p = Bun.spawn(["psql", "-X", "-A", "-t", "-c", "select pg_is_in_recovery()", `host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=require connect_timeout=1`], { stdout: "pipe", stderr: "ignore" })
          const out = await new Response(p.stdout).text()
          return (await p.exited) === 0 && out.trim() === "f" ? n : undefined
        }))
        const primaries = answers.filter((n): n is string => n !== undefined)
        this.samples++
        if (primaries.length > 1) this.overlaps.push({ at: Date.now(), primaries })
        await Bun.sleep(everyMs)
      }
    })()
  }

  async stop() {
    this.running = false
    await this.loop
  }
}
