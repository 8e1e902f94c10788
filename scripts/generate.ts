/** Writes the files generated from src/: the CRDs and the default monitoring ConfigMap. */
import { renderCrds } from "../src/api/Crds.ts"
import { renderDefaultMonitoring } from "../src/api/DefaultMonitoring.ts"

const root = new URL("../", import.meta.url).pathname
const files = [
  ...renderCrds().map(({ file, yaml }) => ({ path: `manifests/crd/${file}`, yaml })),
  { path: "manifests/default/default-monitoring.yaml", yaml: renderDefaultMonitoring() },
]
for (const { path, yaml } of files) {
  await Bun.write(root + path, yaml)
  console.log(`wrote ${path}`)
}
