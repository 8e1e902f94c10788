/**
 * Counting one client's requests on the API server's side: API Priority and Fairness
 * attributes each request to the first FlowSchema it matches (lowest precedence first) and
 * counts it in apiserver_flowcontrol_dispatched_requests_total, so FlowSchemas that split a
 * ServiceAccount's requests by verb or resource let the server say what that client sent.
 */

/** One FlowSchema for the requests of a ServiceAccount that match `rule`. */
export const flowSchema = (
  name: string,
  precedence: number,
  serviceAccount: { readonly namespace: string; readonly name: string },
  rule: { readonly resourceRules?: ReadonlyArray<object>; readonly nonResourceRules?: ReadonlyArray<object> },
) => ({
  apiVersion: "flowcontrol.apiserver.k8s.io/v1",
  kind: "FlowSchema",
  metadata: { name },
  spec: {
    priorityLevelConfiguration: { name: "workload-low" },
    matchingPrecedence: precedence,
    distinguisherMethod: { type: "ByUser" },
    rules: [{ subjects: [{ kind: "ServiceAccount", serviceAccount }], ...rule }],
  },
})

/** apiserver_flowcontrol_dispatched_requests_total per FlowSchema, from the API server's /metrics. */
export const dispatchedByFlowSchema = (metrics: string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("apiserver_flowcontrol_dispatched_requests_total{")) continue
    const schema = /flow_schema="([^"]*)"/.exec(line)?.[1]
    if (schema !== undefined) out.set(schema, (out.get(schema) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)))
  }
  return out
}
