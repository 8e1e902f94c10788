/**
 * What this build is. `build.ts` replaces `TUSK_BUILD` at compile time; under `bun run`
 * the package version with a "-dev" suffix is reported instead.
 */
import pkg from "../package.json" with { type: "json" }

declare const TUSK_BUILD: { readonly version: string; readonly commit: string; readonly date: string } | undefined

/** Version, commit and build date of the running binary. */
export const buildInfo = typeof TUSK_BUILD !== "undefined" ? TUSK_BUILD : { version: `${pkg.version}-dev`, commit: "unknown", date: "unknown" }

/** One line for `tusk version` and logs. */
export const versionLine = `tusk ${buildInfo.version} (commit ${buildInfo.commit}, built ${buildInfo.date}, bun ${Bun.version})`
