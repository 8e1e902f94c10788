/**
 * Annotations that carry Kubernetes-specific meaning from an `effect/Schema` to the
 * generated CRD. They are read by `OpenApi.ts`; the Schema stays the single source.
 */
import { Schema } from "effect"

/** A CEL rule as it appears in `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string
  readonly message?: string
  readonly messageExpression?: string
  readonly fieldPath?: string
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate"
}

/**
 * Documentation of a field for the CRD (`kubectl explain`). Kept apart from Effect's
 * `description`, which Effect also uses as the "expected" text of decode errors.
 */
export const DocId: unique symbol = Symbol.for("tusk/api/Doc")
/** CEL rules attached to a schema node. */
export const CelRulesId: unique symbol = Symbol.for("tusk/api/CelRules")
/** Node whose content is opaque to Tusk: `x-kubernetes-preserve-unknown-fields`. */
export const PreserveUnknownFieldsId: unique symbol = Symbol.for("tusk/api/PreserveUnknownFields")
/** Integer or string (quantities, ports): `x-kubernetes-int-or-string`. */
export const IntOrStringId: unique symbol = Symbol.for("tusk/api/IntOrString")

declare module "effect/Schema" {
  namespace Annotations {
    interface GenericSchema<A> extends Schema<A> {
      [DocId]?: string
      [CelRulesId]?: ReadonlyArray<CelRule>
      [PreserveUnknownFieldsId]?: true
      [IntOrStringId]?: true
    }
  }
}

/**
 * A refinement enforced twice from one place: by the Schema when Tusk decodes, and by
 * the API server through the CEL rule in the CRD. `predicate` and `cel.rule` must agree;
 * the API tests check both sides on the same inputs.
 */
export const rule =
  <A>(predicate: (a: A) => boolean, cel: CelRule & { readonly message: string }) =>
  <I, R>(self: Schema.Schema<A, I, R>): Schema.filter<Schema.Schema<A, I, R>> =>
    self.pipe(Schema.filter(predicate, { message: () => cel.message, [CelRulesId]: [cel] }))

/** Rules that only the API server can check (transitions using `oldSelf`). */
export const serverRules =
  (...rules: ReadonlyArray<CelRule>) =>
  <S extends Schema.Annotable.All>(self: S): Schema.Annotable.Self<S> =>
    self.annotations({ [CelRulesId]: rules })
