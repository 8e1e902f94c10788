/** Writes the files generated from src/: the CRDs under manifests/crd. */
import { renderCrds } from "../src/api/Crds.ts"

const dir = new URL("../manifests/crd/", import.meta.url).pathname
for (const { file, yaml } of renderCrds()) {
  await Bun.write(dir + file, yaml)
  console.log(`wrote manifests/crd/${file}`)
}
