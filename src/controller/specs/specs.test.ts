import { describe, expect, test } from "bun:test"
import { Effect, Schema } from "effect"
import { Cluster } from "../../api/Cluster.ts"
import { appSecret, generatePassword, superuserSecret } from "./Credentials.ts"
import { disruptionBudgets } from "./DisruptionBudgets.ts"
import { bootstrapJob, dataPvc, instancePod } from "./Instances.ts"
import { podMonitor } from "./Monitoring.ts"
import { role } from "./Rbac.ts"
import { services } from "./Services.ts"

const make = (spec: Record<string, unknown>) =>
  Schema.decodeUnknownSync(Cluster)({
    apiVersion: "postgresql.tusk.dev/v1",
    kind: "Cluster",
    metadata: { name: "mycluster", namespace: "prod", uid: "uid-1" },
    spec: { instances: 3, storage: { size: "3Gi" }, ...spec },
  })
const images = { operatorImage: "ghcr.io/tusk-dev/tusk:0.1.0", defaultImage: "ghcr.io/cloudnative-pg/postgresql:15" }

describe("cluster objects", () => {
  test("-rw, -ro and -r select by role label, never by pod name", () => {
    const [rw, ro, r] = services(make({}))
    expect(rw!.metadata!.name).toBe("mycluster-rw")
    expect(rw!.spec!.selector).toEqual({ "tusk.dev/cluster": "mycluster", "tusk.dev/instanceRole": "primary" })
    expect(ro!.spec!.selector).toEqual({ "tusk.dev/cluster": "mycluster", "tusk.dev/instanceRole": "replica" })
    expect(r!.spec!.selector).toEqual({ "tusk.dev/cluster": "mycluster", "tusk.dev/podRole": "instance" })
    expect(rw!.spec!.ports).toEqual([{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }])
    expect(rw!.metadata!.ownerReferences).toEqual([
      { apiVersion: "postgresql.tusk.dev/v1", kind: "Cluster", name: "mycluster", uid: "uid-1", controller: true, blockOwnerDeletion: true },
    ])
  })

  test("PDBs: the primary always, replicas from three instances on, none when disabled", () => {
    expect(disruptionBudgets(make({})).map((p) => p.metadata!.name)).toEqual(["mycluster-primary", "mycluster"])
    expect(disruptionBudgets(make({ instances: 2 })).map((p) => p.metadata!.name)).toEqual(["mycluster-primary"])
    expect(disruptionBudgets(make({ enablePDB: false }))).toEqual([])
  })

  test("credentials: basic-auth Secrets with every connection key, superuser only when enabled", async () => {
    const password = await Effect.runPromise(generatePassword())
    expect(password).toMatch(/^[A-Za-z0-9]{64}$/)
    expect(await Effect.runPromise(generatePassword())).not.toBe(password)
    const app = appSecret(make({ bootstrap: { initdb: { database: "shop" } } }), password)
    expect(app.type).toBe("kubernetes.io/basic-auth")
    expect(Object.keys(app.stringData!).sort()).toEqual(["dbname", "host", "jdbc-uri", "password", "pgpass", "port", "uri", "username"])
    expect(app.stringData).toMatchObject({ username: "shop", dbname: "shop", host: "mycluster-rw", port: "5432" })
    expect(app.stringData!.uri).toBe(`postgresql://shop:${password}@mycluster-rw.prod.svc:5432/shop`)
    expect(superuserSecret(make({}), password)).toBeUndefined()
    expect(superuserSecret(make({ enableSuperuserAccess: true }), password)?.stringData?.username).toBe("postgres")
    expect(superuserSecret(make({ enableSuperuserAccess: true, superuserSecret: { name: "mine" } }), password)).toBeUndefined()
  })

  test("the instance Role reads only its own Cluster, Secrets and ConfigMaps", () => {
    const rules = role(make({ superuserSecret: { name: "mine" } })).rules!
    expect(rules[0]).toEqual({ apiGroups: ["postgresql.tusk.dev"], resources: ["clusters"], resourceNames: ["mycluster"], verbs: ["get", "list", "watch"] })
    expect(rules.find((r) => r.resources?.includes("secrets"))?.resourceNames).toEqual([
      "mine",
      "mycluster-app",
      "mycluster-ca",
      "mycluster-replication",
      "mycluster-server",
      "mycluster-superuser",
    ])
    for (const r of rules) expect(r.verbs).not.toContain("*")
  })

  test("PodMonitor only when asked for", () => {
    expect(podMonitor(make({}))).toBeUndefined()
    expect(podMonitor(make({ monitoring: { enablePodMonitor: true } }))?.spec.podMetricsEndpoints).toEqual([{ port: "metrics" }])
  })
})

describe("instance objects", () => {
  test("the PVC is named after the instance and asks for the storage size", () => {
    const pvc = dataPvc(make({ storage: { size: "3Gi", storageClass: "fast" } }), 4)
    expect(pvc.metadata!.name).toBe("mycluster-4")
    expect(pvc.metadata!.annotations).toEqual({ "tusk.dev/serial": "4" })
    expect(pvc.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "3Gi" } }, storageClassName: "fast" })
  })

  test("the pod runs tusk from the shared volume, restricted, with probes on the status port", () => {
    const pod = instancePod(make({ imageName: "ghcr.io/cloudnative-pg/postgresql:15.3" }), 1, images)
    const spec = pod.spec!
    expect(pod.metadata!.name).toBe("mycluster-1")
    expect(pod.metadata!.labels).toMatchObject({ "tusk.dev/instanceName": "mycluster-1", "tusk.dev/podRole": "instance" })
    expect(spec.initContainers![0]!.command).toEqual(["/usr/local/bin/tusk", "bootstrap", "/controller/tusk"])
    expect(spec.initContainers![0]!.image).toBe(images.operatorImage)
    const postgres = spec.containers[0]!
    expect(postgres.image).toBe("ghcr.io/cloudnative-pg/postgresql:15.3")
    expect(postgres.command).toEqual(["/controller/tusk", "instance", "run"])
    expect(postgres.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } })
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 26, seccompProfile: { type: "RuntimeDefault" } })
    expect(postgres.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: 8000, scheme: "HTTPS" })
    expect(postgres.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: 8000, scheme: "HTTPS" })
    expect(spec.terminationGracePeriodSeconds).toBe(1800)
    expect(spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.topologyKey).toBe(
      "kubernetes.io/hostname",
    )
    expect(spec.volumes?.find((v) => v.name === "pgdata")?.persistentVolumeClaim?.claimName).toBe("mycluster-1")
  })

  test("required anti-affinity when asked, none when disabled", () => {
    const required = instancePod(make({ affinity: { podAntiAffinityType: "required" } }), 1, images)
    expect(required.spec!.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1)
    expect(instancePod(make({ affinity: { enablePodAntiAffinity: false } }), 1, images).spec!.affinity).toBeUndefined()
  })

  test("initdb and join Jobs are named after the instance and run the matching command", () => {
    const initdb = bootstrapJob(make({}), 1, "initdb", images)
    const join = bootstrapJob(make({}), 2, "join", images)
    expect(initdb.metadata!.name).toBe("mycluster-1-initdb")
    expect(join.metadata!.name).toBe("mycluster-2-join")
    expect(initdb.spec!.template.spec!.containers[0]!.command).toEqual(["/controller/tusk", "instance", "init", "--instance-name", "mycluster-1"])
    expect(join.spec!.template.spec!.containers[0]!.command).toEqual(["/controller/tusk", "instance", "join", "--instance-name", "mycluster-2"])
    expect(join.spec!.template.spec!.restartPolicy).toBe("Never")
    expect(join.metadata!.labels).toMatchObject({ "tusk.dev/jobRole": "join", "tusk.dev/podRole": "job" })
  })
})
