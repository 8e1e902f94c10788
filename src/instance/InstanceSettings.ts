/** Where and how this instance runs: paths, ports, its name and how to reach its peers. */
import { Context } from "effect"
import { names, podPaths, ports } from "../api/Naming.ts"
import type { Endpoint } from "./config/Conninfo.ts"

export interface InstanceSettingsShape {
  /** This instance's name (the pod name, e.g. `mycluster-1`); also its `application_name`. */
  readonly instanceName: string
  readonly pgdata: string
  readonly socketDir: string
  readonly certDir: string
  /** PostgreSQL's binaries (initdb, postgres, pg_basebackup, pg_rewind...). */
  readonly binDir: string
  readonly port: number
  readonly listenAddresses: string
  /** Address the status API and metrics bind to. */
  readonly httpHost: string
  readonly statusPort: number
  readonly metricsPort: number
  /** Known addresses of instances by name; any other primary is reached through the `-rw` Service. */
  readonly peers: ReadonlyMap<string, Endpoint>
  /** The OS user PostgreSQL runs as (mapped to the `postgres` role for local peer auth). */
  readonly osUser: string
  readonly version: string
}

/** The instance's settings, read once by the command that starts it. */
export class InstanceSettings extends Context.Tag("tusk/instance/InstanceSettings")<InstanceSettings, InstanceSettingsShape>() {}

/** Paths and ports inside an instance pod. */
export const podDefaults = {
  pgdata: podPaths.pgdata,
  socketDir: podPaths.sockets,
  certDir: podPaths.certificates,
  binDir: "/usr/lib/postgresql/15/bin",
  port: ports.postgres,
  listenAddresses: "*",
  httpHost: "0.0.0.0",
  statusPort: ports.status,
  metricsPort: ports.metrics
} as const

/** Where instance `name` of cluster `cluster` accepts connections. */
export const endpointOf = (settings: InstanceSettingsShape, cluster: string, name: string): Endpoint =>
  settings.peers.get(name) ?? { host: names(cluster).rwService, port: ports.postgres }

/** The unix socket path of the local postmaster. */
export const socketPath = (settings: InstanceSettingsShape): string => `${settings.socketDir}/.s.PGSQL.${settings.port}`
