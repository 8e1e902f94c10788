import { describe, expect, test } from "bun:test"
import { parseAllDocuments } from "yaml"
import { kubectl } from "./support/kubectl.ts"

interface Rendered {
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string }
  readonly spec?: Record<string, unknown>
}

const render = async (dir: string): Promise<ReadonlyArray<Rendered>> => {
  const out = await kubectl(["kustomize", dir])
  return parseAllDocuments(out).map((d) => d.toJS() as Rendered)
}

describe("manifests", () => {
  test("manifests/default renders the whole install into tusk-system", async () => {
    const objects = await render("manifests/default")
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`)
    expect(names).toEqual(
      expect.arrayContaining([
        "Namespace/tusk-system",
        "CustomResourceDefinition/clusters.postgresql.tusk.dev",
        "CustomResourceDefinition/backups.postgresql.tusk.dev",
        "CustomResourceDefinition/scheduledbackups.postgresql.tusk.dev",
        "CustomResourceDefinition/poolers.postgresql.tusk.dev",
        "ServiceAccount/tusk-controller",
        "ClusterRole/tusk-controller",
        "ClusterRoleBinding/tusk-controller",
        "Role/tusk-leader-election",
        "RoleBinding/tusk-leader-election",
        "Deployment/tusk-controller",
        "ConfigMap/tusk-default-monitoring",
      ]),
    )
    for (const o of objects) {
      if (o.kind === "Namespace" || o.kind.startsWith("Cluster") || o.kind === "CustomResourceDefinition") continue
      expect(`${o.kind}/${o.metadata.name}:${o.metadata.namespace}`).toEndWith(":tusk-system")
    }
  })

  test("the operator Deployment meets the restricted pod security standard", async () => {
    const objects = await render("manifests/default")
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as {
      spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Array<Record<string, unknown>> } } }
    }
    const pod = deployment.spec.template.spec
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } })
    const container = pod.containers[0]!
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    })
    expect(container.ports).toEqual([
      { name: "metrics", containerPort: 8080 },
      { name: "health", containerPort: 8081 },
    ])
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "health" } })
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "health" } })
  })

  test("the operator's RBAC grants no wildcard", async () => {
    const objects = await render("manifests/default")
    for (const o of objects.filter((x) => x.kind === "ClusterRole" || x.kind === "Role")) {
      const rules = (o as unknown as { rules: Array<Record<string, Array<string>>> }).rules
      for (const r of rules) {
        for (const list of [r.apiGroups, r.resources, r.verbs]) expect(list).not.toContain("*")
      }
    }
  })

  test("every overlay and the samples render", async () => {
    expect((await render("manifests/overlays/ha")).filter((o) => o.kind === "PodDisruptionBudget")).toHaveLength(1)
    const local = await render("manifests/overlays/localkube")
    expect(JSON.stringify(local.find((o) => o.kind === "Deployment"))).toContain('"imagePullPolicy":"Never"')
    const samples = await render("manifests/samples")
    expect(samples.map((o) => o.metadata.name).sort()).toEqual(["minimal", "mycluster"])
  })
})
