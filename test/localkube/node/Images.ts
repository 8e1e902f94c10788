/**
 * Container images as local programs: the one table that says what an image "contains".
 * Containers share the machine's root filesystem (see Holder.ts), so an image only
 * decides PATH, the default user, and extra binaries bind-mounted into the pod.
 * Pure: no I/O.
 */

export interface ImageContent {
  /** What the image stands for, for messages. */
  readonly kind: "postgresql" | "operator" | "client" | "base"
  /** PATH inside the container, as the real image sets it. */
  readonly path: string
  /** Files put at fixed paths inside the container: target path -> host path. */
  readonly binaries: ReadonlyArray<{ readonly target: string; readonly source: string }>
  /** The image's ENTRYPOINT + CMD, used when the container sets no command. */
  readonly defaultCommand: ReadonlyArray<string>
  /** The image's USER (uid), used when the pod sets no runAsUser. */
  readonly defaultUid: number
}

/** Where the compiled operator appears inside operator-image containers. */
export const operatorBinaryPath = "/usr/local/bin/tusk"

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
const postgresPath = `/usr/lib/postgresql/15/bin:${systemPath}`

/** Splits "registry/repo/name:tag@digest" into the repository path and tag. */
export const parseImage = (image: string): { readonly repository: string; readonly tag: string } => {
  const noDigest = image.split("@")[0] ?? image
  const slash = noDigest.lastIndexOf("/")
  const colon = noDigest.lastIndexOf(":")
  return colon > slash
    ? { repository: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) }
    : { repository: noDigest, tag: "latest" }
}

/** Client and base images idle until told otherwise. */
const idle = ["sleep", "infinity"]

const lastSegment = (repository: string): string => repository.slice(repository.lastIndexOf("/") + 1)

/**
 * Resolves an image to its content, or undefined when no such image exists (the pod
 * then fails the way an image pull would). `operatorBinary` is the host path of the
 * compiled tusk binary (<repo>/dist/tusk).
 */
export const resolveImage = (image: string, operatorBinary: string): ImageContent | undefined => {
  const { repository } = parseImage(image)
  const name = lastSegment(repository)
  if (name === "postgresql" || repository === "postgres" || repository.endsWith("/postgres") || repository === "library/postgres") {
    // CloudNativePG's images run as postgres (26); the official ones start as root.
    return { kind: "postgresql", path: postgresPath, binaries: [], defaultCommand: ["postgres"], defaultUid: repository.includes("cloudnative-pg/") ? 26 : 0 }
  }
  if (name === "tusk") {
    return { kind: "operator", path: systemPath, binaries: [{ target: operatorBinaryPath, source: operatorBinary }], defaultCommand: [operatorBinaryPath], defaultUid: 65532 }
  }
  if (repository === "tusk.dev/client") return { kind: "client", path: postgresPath, binaries: [], defaultCommand: idle, defaultUid: 0 }
  if (["busybox", "debian", "ubuntu", "bash", "library/busybox", "library/debian"].includes(repository)) {
    return { kind: "base", path: systemPath, binaries: [], defaultCommand: idle, defaultUid: 0 }
  }
  return undefined
}

/** The uid and gid of `postgres` in PostgreSQL images (CloudNativePG's and the official ones). */
export const imagePostgresId = 26

/**
 * The machine's /etc/passwd or /etc/group as a PostgreSQL image has it: the `postgres`
 * account at uid/gid 26 (the machine's own may differ), so initdb and postgres can look
 * up the user they run as. Pure.
 */
export const imageAccounts = (hostFile: string, kind: "passwd" | "group"): string => {
  const lines = hostFile.split("\n").filter((l) => l !== "" && !l.startsWith("postgres:"))
  const entry =
    kind === "passwd"
      ? `postgres:x:${imagePostgresId}:${imagePostgresId}:PostgreSQL administrator:/var/lib/postgresql:/bin/bash`
      : `postgres:x:${imagePostgresId}:`
  return [...lines, entry, ""].join("\n")
}
