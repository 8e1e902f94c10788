/**
 * The `tusk-default-monitoring` ConfigMap: the default metric queries every instance
 * runs, in CloudNativePG's queries format. Installed in the operator's namespace; the
 * queries themselves are the ones built into the instance manager.
 */
import { stringify } from "yaml"
import { defaultQueriesText } from "../instance/metrics/Queries.ts"
import { defaultMonitoringConfigMap } from "./Naming.ts"

/** The key of the ConfigMap that holds the queries. */
export const queriesKey = "queries"

/** The ConfigMap as YAML, as committed under manifests/default. */
export const renderDefaultMonitoring = (): string =>
  "# Generated from src/instance/metrics/default-queries.yaml by `npm run generate`. Do not edit by hand.\n" +
  stringify(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: defaultMonitoringConfigMap,
        labels: { "app.kubernetes.io/name": "tusk", "tusk.dev/monitoring": "default" },
      },
      data: { [queriesKey]: defaultQueriesText },
    },
    { lineWidth: 0 },
  )
