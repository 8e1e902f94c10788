/**
 * The kubectl tests use: the one built with the local Kubernetes when it exists (its
 * version matches the API server), otherwise the machine's.
 */
import { existsSync } from "node:fs"

const localBuild = (): string | undefined => {
  const home = process.env.HOME ?? "/root"
  const cache = `${home}/.cache/tusk-localkube`
  if (!existsSync(cache)) return undefined
  const found = new Bun.Glob("*/bin/kubectl").scanSync({ cwd: cache, absolute: true })
  return found.next().value ?? undefined
}

/** Path of the kubectl binary to run. */
export const kubectlPath = localBuild() ?? Bun.which("kubectl") ?? "kubectl"

/** Run kubectl (outside any cluster network) and return its stdout; throws with stderr on failure. */
export const kubectl = async (args: ReadonlyArray<string>): Promise<string> => {
  const proc = Bun.spawn([kubectlPath, ...args], { stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${code}: ${err}`)
  return out
}
