/**
 * Turns an `effect/Schema` into a Kubernetes structural OpenAPI v3 schema
 * (JSONSchemaProps): no `$ref`, a type on every node, CEL rules as
 * `x-kubernetes-validations`. The encoded side of a Schema is what users write, so the
 * walk follows `from` through transformations and keeps every refinement's constraints.
 */
import { Option, SchemaAST as AST } from "effect"
import { type CelRule, CelRulesId, DocId, IntOrStringId, PreserveUnknownFieldsId } from "./Annotations.ts"
import { RefusedFieldsId, type RefusedFieldType } from "./Fields.ts"

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that Tusk's CRDs use. */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean"
  description?: string
  properties?: Record<string, JSONSchemaProps>
  required?: Array<string>
  items?: JSONSchemaProps
  additionalProperties?: JSONSchemaProps
  enum?: Array<unknown>
  default?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: boolean
  exclusiveMaximum?: boolean
  minLength?: number
  maxLength?: number
  pattern?: string
  minItems?: number
  maxItems?: number
  maxProperties?: number
  anyOf?: Array<JSONSchemaProps>
  "x-kubernetes-preserve-unknown-fields"?: true
  "x-kubernetes-int-or-string"?: true
  "x-kubernetes-validations"?: Array<CelRule>
}

/** Raised at generation time when a Schema has no faithful structural equivalent. */
export class UnsupportedSchemaError extends Error {
  override readonly name = "UnsupportedSchemaError"
}

/** Keys of Effect's `jsonSchema` fragments that structural schemas accept. */
const constraintKeys = [
  "type",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "maxProperties",
  "default",
] as const

/** A declared but refused field: typed so CEL can name it, with any content. */
const refusedFieldSchema = (type: RefusedFieldType): JSONSchemaProps => {
  switch (type) {
    case "object":
      return { type, "x-kubernetes-preserve-unknown-fields": true }
    case "array":
      return { type, items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }
    case "stringArray":
      return { type: "array", items: { type: "string" } }
    default:
      return { type }
  }
}

/** Annotations of one node, merged into the props of the node it describes. */
const annotate = (ast: AST.Annotated, into: JSONSchemaProps): JSONSchemaProps => {
  const out: JSONSchemaProps = { ...into }
  const fragment = AST.getJSONSchemaAnnotation(ast)
  if (Option.isSome(fragment)) {
    const f = fragment.value as Record<string, unknown>
    for (const key of constraintKeys) {
      const v = f[key]
      if (v === undefined) continue
      // Effect writes exclusive bounds as numbers (draft 2020); OpenAPI v3.0 wants a flag.
      if (key === "exclusiveMinimum" || key === "exclusiveMaximum") {
        const bound = key === "exclusiveMinimum" ? "minimum" : "maximum"
        Object.assign(out, { [bound]: v, [key]: true })
      } else if (key === "type") {
        // "integer" refines "number"; anything else must not contradict the node.
        if (!(out.type === "number" && v === "integer") && out.type !== undefined && out.type !== v) {
          throw new UnsupportedSchemaError(`conflicting types ${out.type} and ${String(v)}`)
        }
        out.type = v as NonNullable<JSONSchemaProps["type"]>
      } else {
        Object.assign(out, { [key]: v })
      }
    }
  }
  const doc = ast.annotations[DocId] as string | undefined
  if (doc !== undefined && out.description === undefined) out.description = doc
  const dflt = AST.getDefaultAnnotation(ast)
  if (Option.isSome(dflt) && out.default === undefined) out.default = dflt.value
  const rules = ast.annotations[CelRulesId] as ReadonlyArray<CelRule> | undefined
  if (rules !== undefined) out["x-kubernetes-validations"] = [...(out["x-kubernetes-validations"] ?? []), ...rules]
  const refused = ast.annotations[RefusedFieldsId] as Readonly<Record<string, RefusedFieldType>> | undefined
  if (refused !== undefined) {
    out.properties = { ...out.properties }
    const refusals: Array<CelRule> = []
    for (const [field, type] of Object.entries(refused)) {
      out.properties[field] = refusedFieldSchema(type)
      refusals.push({
        rule: `!has(self.${field})`,
        message: `${field} is a CloudNativePG field that Tusk does not support`,
        fieldPath: `.${field}`,
        reason: "FieldValueForbidden",
      })
    }
    out["x-kubernetes-validations"] = [...(out["x-kubernetes-validations"] ?? []), ...refusals]
  }
  return out
}

const literalType = (value: AST.LiteralValue): NonNullable<JSONSchemaProps["type"]> => {
  switch (typeof value) {
    case "string":
      return "string"
    case "number":
      return Number.isInteger(value) ? "integer" : "number"
    case "boolean":
      return "boolean"
    default:
      throw new UnsupportedSchemaError(`literal ${String(value)} has no OpenAPI type`)
  }
}

const withoutUndefined = (types: ReadonlyArray<AST.AST>) => types.filter((t) => t._tag !== "UndefinedKeyword")

const isPreserved = (ast: AST.AST) => ast.annotations[PreserveUnknownFieldsId] === true

const walkTypeLiteral = (ast: AST.TypeLiteral): JSONSchemaProps => {
  if (ast.indexSignatures.length > 0) {
    if (ast.propertySignatures.length > 0 || ast.indexSignatures.length > 1) {
      throw new UnsupportedSchemaError("an object with both fixed and free keys is not structural")
    }
    const value = ast.indexSignatures[0]!.type
    return { type: "object", additionalProperties: toOpenApi(value) }
  }
  const properties: Record<string, JSONSchemaProps> = {}
  const required: Array<string> = []
  for (const ps of ast.propertySignatures) {
    if (typeof ps.name !== "string") throw new UnsupportedSchemaError("symbol keys are not allowed")
    properties[ps.name] = annotate(ps, toOpenApi(ps.type))
    if (!ps.isOptional) required.push(ps.name)
  }
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) }
}

const walkUnion = (ast: AST.Union): JSONSchemaProps => {
  const members = withoutUndefined(ast.types)
  if (members.length === 1) return toOpenApi(members[0]!)
  if (ast.annotations[IntOrStringId] === true) {
    const pattern = members.map(toOpenApi).find((m) => m.type === "string")?.pattern
    return {
      "x-kubernetes-int-or-string": true,
      anyOf: [{ type: "integer" }, { type: "string" }],
      ...(pattern !== undefined ? { pattern } : {}),
    }
  }
  if (members.every(AST.isLiteral)) {
    const values = members.map((m) => m.literal)
    const types = new Set(values.map(literalType))
    if (types.size !== 1) throw new UnsupportedSchemaError("an enum mixes types")
    return { type: [...types][0]!, enum: values }
  }
  throw new UnsupportedSchemaError("unions other than enums and int-or-string are not structural")
}

/** The structural schema of one Schema AST node and everything below it. */
export const toOpenApi = (ast: AST.AST): JSONSchemaProps => {
  if (isPreserved(ast)) return annotate(ast, { type: "object", "x-kubernetes-preserve-unknown-fields": true })
  switch (ast._tag) {
    case "StringKeyword":
      return annotate(ast, { type: "string" })
    case "NumberKeyword":
      return annotate(ast, { type: "number" })
    case "BooleanKeyword":
      return annotate(ast, { type: "boolean" })
    case "Literal":
      return annotate(ast, { type: literalType(ast.literal), enum: [ast.literal] })
    case "Union":
      return annotate(ast, walkUnion(ast))
    case "TupleType": {
      if (ast.elements.length > 0 || ast.rest.length !== 1) {
        throw new UnsupportedSchemaError("only homogeneous arrays are structural")
      }
      return annotate(ast, { type: "array", items: toOpenApi(ast.rest[0]!.type) })
    }
    case "TypeLiteral":
      return annotate(ast, walkTypeLiteral(ast))
    case "Refinement": {
      const hasConstraint =
        Option.isSome(AST.getJSONSchemaAnnotation(ast)) || ast.annotations[CelRulesId] !== undefined
      if (!hasConstraint) {
        throw new UnsupportedSchemaError("a refinement without a jsonSchema or CEL annotation would not be enforced")
      }
      return annotate(ast, toOpenApi(ast.from))
    }
    case "Transformation":
      return annotate(ast, toOpenApi(ast.from))
    default:
      throw new UnsupportedSchemaError(`${ast._tag} has no structural OpenAPI form`)
  }
}
