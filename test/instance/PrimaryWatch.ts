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
        const answers = await Promise.all(cluster.names.map(async (n) => {
          try {
            const rows = await cluster.once(n, (sql) => sql`select pg_is_in_recovery() as r`, { connect_timeout: 1 })
            return rows[0]?.["r"] === false ? n : undefined
          } catch {
            return undefined
          }
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
