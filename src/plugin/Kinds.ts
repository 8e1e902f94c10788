/** The kinds the plugin reads: the operator's own set, plus core Events. */
import * as Resource from "../kube/Resource.ts"

export { clusters, configMaps, jobs, nodes, pdbs, pods, pvcs, roleBindings, roles, secrets, serviceAccounts, services } from "../controller/Kinds.ts"

/** core/v1 Events: `involvedObject` points at the pod or Cluster they are about. */
export const events = Resource.unstructured({ group: "", version: "v1", kind: "Event", plural: "events", namespaced: true })
