/** `pg_hba.conf` and `pg_ident.conf`: Tusk's fixed rules around the user's. Pure. */

/** Rules before the user's: local admin by peer, certificate auth for the replication user. */
export const fixedHbaRules: ReadonlyArray<string> = [
  "local all all peer map=local",
  "hostssl postgres streaming_replica all cert",
  "hostssl replication streaming_replica all cert"
]

/** Rule after the user's: every other TCP connection authenticates with SCRAM. */
export const finalHbaRule = "host all all all scram-sha-256"

/** The content of `pg_hba.conf`. */
export const renderPgHba = (userRules: ReadonlyArray<string>): string =>
  [
    "# Managed by Tusk: edits are overwritten.",
    ...fixedHbaRules,
    "# spec.postgresql.pg_hba",
    ...userRules,
    "# Tusk default",
    finalHbaRule,
    ""
  ].join("\n")

/** The content of `pg_ident.conf`: the OS user the instance runs as may act as `postgres`. */
export const renderPgIdent = (osUser: string, userLines: ReadonlyArray<string>): string =>
  [
    "# Managed by Tusk: edits are overwritten.",
    `local ${osUser} postgres`,
    "# spec.postgresql.pg_ident",
    ...userLines,
    ""
  ].join("\n")
