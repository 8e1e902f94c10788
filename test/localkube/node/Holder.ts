/**
 * The pod sandbox's first process ("holder"): a shell script run as PID 1 of fresh
 * mount, network, PID, UTS and IPC namespaces. It builds the pod's root filesystem,
 * mounts every volume at its mountPath, signals readiness, then only reaps orphans.
 *
 * This stands in for a container runtime: containers share the machine's root
 * filesystem (each top-level directory is bind-mounted into a per-pod tmpfs root), with
 * private /tmp, /run and /dev/shm, and the pod's volumes and /etc/resolv.conf, /etc/hosts
 * and /etc/hostname bind-mounted on top. Every mount lives in the pod's own mount
 * namespace, so nothing changes for other processes on the machine. A mountPath whose
 * directory does not exist is created inside a tmpfs "shadow" of its nearest existing
 * ancestor (the shadow re-binds the ancestor's entries), never on the real host path.
 *
 * Pure: this module only renders the script.
 */

/** One bind mount in the pod: `source` is a host path, `target` a path in the pod. */
export interface BindMount {
  readonly source: string
  readonly target: string
  readonly readOnly: boolean
  /** True when the source is a file (subPath of a file, /etc/hosts...). */
  readonly file: boolean
}

export interface HolderPlan {
  /** Host directory where the pod's root tmpfs is mounted (inside the pod's namespace only). */
  readonly rootDir: string
  /** File the holder creates (host path) once every mount is in place. */
  readonly readyFile: string
  readonly hostname: string
  readonly mounts: ReadonlyArray<BindMount>
  /** Host directories to cover with a tmpfs first (emptyDir medium Memory), with their group. */
  readonly tmpfs: ReadonlyArray<{ readonly dir: string; readonly gid?: number }>
}

/** Single-quote a string for POSIX shells. */
export const shellQuote = (s: string): string => `'${s.replaceAll("'", `'"'"'`)}'`

/** Directories that the pod gets fresh, not shared with the host. */
const privateTmpfs = ["/tmp", "/run", "/dev/shm"] as const

/** Renders the holder script (bash). */
export const holderScript = (plan: HolderPlan): string => {
  const q = shellQuote
  const lines: Array<string> = [
    "set -eu",
    `R=${q(plan.rootDir)}`,
    `hostname ${q(plan.hostname)}`,
    ...plan.tmpfs.flatMap((t) => [
      `mount -t tmpfs -o mode=1777 lkmem ${q(t.dir)}`,
      ...(t.gid === undefined ? [] : [`chgrp ${t.gid} ${q(t.dir)}; chmod 2777 ${q(t.dir)}`]),
    ]),
    'mount -t tmpfs -o mode=755 lkroot "$R"',
    // Mirror the host's top level: directories are bound recursively, symlinks copied.
    'for e in /* /.[!.]*; do',
    '  [ -e "$e" ] || [ -L "$e" ] || continue',
    '  n="${e#/}"',
    '  case "$n" in tmp|run) mkdir -m 1777 "$R/$n"; continue;; esac',
    '  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$R/$n"',
    '  elif [ -d "$e" ]; then mkdir "$R/$n"; mount --rbind "$e" "$R/$n"',
    '  else touch "$R/$n"; mount --bind "$e" "$R/$n"; fi',
    "done",
    ...privateTmpfs.map((d) => `mount -t tmpfs -o mode=1777 lkpriv "$R${d}"`),
    // Debian and the official images keep PostgreSQL's socket directory here.
    'mkdir -m 2777 "$R/run/postgresql"; chown 101:0 "$R/run/postgresql" || true',
    'mkdir "$R/.oldroot"',
    'cd "$R"',
    "pivot_root . .oldroot",
    "cd /",
    // Paths we own (writable without touching the host): whole private trees, and
    // single directories (the root, shadows) whose entries are still host binds.
    'TREES="/tmp /run /dev/shm"; DIRS="/"',
    'owned() { for o in $TREES; do case "$1" in "$o"|"$o"/*) return 0;; esac; done; for o in $DIRS; do [ "$1" = "$o" ] && return 0; done; return 1; }',
    // Replace directory $1 (a host directory seen in the pod) by a tmpfs re-binding its entries.
    "shadow() {",
    '  d="$1"; s=$(mktemp -d /run/.lkshadow.XXXXXX)',
    '  mount -t tmpfs -o mode=755 lkshadow "$s"',
    '  chmod "$(stat -c %a "$d")" "$s"; chown "$(stat -c %u:%g "$d")" "$s"',
    '  for e in "$d"/* "$d"/.[!.]*; do',
    '    [ -e "$e" ] || [ -L "$e" ] || continue',
    '    n="${e##*/}"',
    '    if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$s/$n"',
    '    elif [ -d "$e" ]; then mkdir "$s/$n"; mount --rbind "$e" "$s/$n"',
    '    else touch "$s/$n"; mount --bind "$e" "$s/$n"; fi',
    "  done",
    '  mount --move "$s" "$d"; rmdir "$s" 2>/dev/null || true',
    '  DIRS="$DIRS $d"',
    "}",
    // Make sure mount point $1 exists (as a file when $2 = file), shadowing as needed.
    "mkpoint() {",
    '  p="$1"',
    '  [ -e "$p" ] && return 0',
    '  a="${p%/*}"; [ -z "$a" ] && a=/',
    '  while [ ! -e "$a" ]; do a="${a%/*}"; [ -z "$a" ] && a=/; done',
    '  a=$(readlink -f "$a")',
    '  owned "$a" || shadow "$a"',
    '  if [ "$2" = file ]; then mkdir -p "${p%/*}"; touch "$p"; else mkdir -p "$p"; fi',
    "}",
    // A bind over a path that is (or leads through) a symlink lands on the link's target.
    "target() { readlink -m \"$1\"; }",
  ]
  for (const m of plan.mounts) {
    const kind = m.file ? "file" : "dir"
    lines.push(`t=$(target ${q(m.target)}); mkpoint "$t" ${kind}; mount --bind ${q(`/.oldroot${m.source}`)} "$t"`)
    if (m.readOnly) lines.push('mount -o remount,bind,ro "$t"')
  }
  lines.push(
    `touch ${q(`/.oldroot${plan.readyFile}`)}`,
    // From here on nothing may end the holder: it is the pod's PID 1.
    "set +e",
    "umount -l /.oldroot",
    "rmdir /.oldroot 2>/dev/null",
    // Reap orphans until killed.
    "trap '' TERM INT HUP",
    "exec </dev/null >/dev/null 2>&1",
    "while :; do sleep 3600 & wait $!; done",
  )
  return lines.join("\n") + "\n"
}
