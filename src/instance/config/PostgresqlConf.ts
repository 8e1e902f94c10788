/** `postgresql.conf`: the user's parameters, Tusk's defaults and fixed settings, replication. Pure. */
import { defaultParameters, fixedParameters, isOwnedParameter, type InstanceLocation } from "./FixedParameters.ts"

/** A value in postgresql.conf syntax (always quoted; quotes and backslashes escaped). */
export const quoteConfValue = (value: string): string =>
  `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`

/** Names among `parameters` that Tusk owns and therefore refuses. */
export const refusedParameters = (parameters: Readonly<Record<string, string>>): ReadonlyArray<string> =>
  Object.keys(parameters).filter(isOwnedParameter).sort()

export interface ConfInput {
  readonly location: InstanceLocation
  /** `spec.postgresql.parameters`, already checked with `refusedParameters`. */
  readonly userParameters: Readonly<Record<string, string>>
  /** `spec.postgresql.shared_preload_libraries`. */
  readonly sharedPreloadLibraries?: ReadonlyArray<string>
  readonly synchronousStandbyNames: string
  /** "" on a primary (or a standby about to be promoted): nothing to stream from. */
  readonly primaryConninfo: string
  readonly primarySlotName: string
}

/** Every parameter with its value, in the order they are written. */
export const parameters = (input: ConfInput): Record<string, string> => ({
  ...defaultParameters,
  ...input.userParameters,
  ...fixedParameters(input.location, input.sharedPreloadLibraries),
  synchronous_standby_names: input.synchronousStandbyNames,
  primary_conninfo: input.primaryConninfo,
  primary_slot_name: input.primarySlotName,
  recovery_target_timeline: "latest"
})

/** The content of `postgresql.conf`. */
export const renderPostgresqlConf = (input: ConfInput): string =>
  [
    "# Managed by Tusk: edits are overwritten.",
    ...Object.entries(parameters(input)).map(([k, v]) => `${k} = ${quoteConfValue(v)}`),
    ""
  ].join("\n")
