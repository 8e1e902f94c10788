/**
 * Compiles `src/main.ts` into one self-contained executable.
 *
 *   bun build.ts           dist/tusk for this machine, plus the dist/kubectl-tusk link
 *   bun build.ts --all     also dist/tusk-linux-x64 and dist/tusk-linux-arm64
 *
 * The version is stamped from package.json, the git commit and the build date.
 */
import { $ } from "bun"
import { mkdir, rm, symlink } from "node:fs/promises"
import pkg from "./package.json" with { type: "json" }

type Target = "bun-linux-x64" | "bun-linux-arm64"

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet()).stdout.toString().trim() || "unknown"
const dirty = (await $`git status --porcelain --untracked-files=no`.nothrow().quiet()).stdout.length > 0
const buildInfo = {
  version: pkg.version,
  commit: dirty ? `${commit}-dirty` : commit,
  date: new Date().toISOString(),
}

const compile = async (outfile: string, target?: Target) => {
  const result = await Bun.build({
    entrypoints: ["src/main.ts"],
    minify: true,
    sourcemap: "linked",
    bytecode: true,
    define: { TUSK_BUILD: JSON.stringify(buildInfo) },
    compile: {
      outfile,
      ...(target !== undefined ? { target } : {}),
      // The binary runs in pods and on laptops: it must not pick up files it finds there.
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
  })
  if (!result.success) {
    for (const log of result.logs) console.error(log)
    process.exit(1)
  }
  console.log(`built ${outfile} (${buildInfo.version}, ${buildInfo.commit})`)
}

await mkdir("dist", { recursive: true })
await compile("dist/tusk")
await rm("dist/kubectl-tusk", { force: true })
await symlink("tusk", "dist/kubectl-tusk")
if (process.argv.includes("--all")) {
  await compile("dist/tusk-linux-x64", "bun-linux-x64")
  await compile("dist/tusk-linux-arm64", "bun-linux-arm64")
}
