/**
 * Small constructors for the shapes every Tusk kind repeats: optional fields, fields
 * with a default the API server also applies, and CloudNativePG fields Tusk refuses.
 */
import { Schema } from "effect"

/** An optional field that is absent rather than `undefined` when not given. */
export const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/**
 * A field with a default. The same value is written into the CRD, so the API server
 * stores it, and applied on decode, so objects from elsewhere read the same.
 */
export const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: NoInfer<A> & I) =>
  Schema.optionalWith(schema.annotations({ default: value }), { exact: true, default: () => value })

/** A sub-object that defaults to `{}` with its own fields' defaults filled in. */
export const defaultedStruct = <A, I extends object>(schema: Schema.Schema<A, I>) => {
  const decoded = Schema.decodeUnknownSync(schema)({})
  return Schema.optionalWith(schema.annotations({ jsonSchema: { default: {} } }), {
    exact: true,
    default: () => decoded,
  })
}

/** Marks CloudNativePG fields that Tusk does not implement; the CRD refuses them by name. */
export const RefusedFieldsId: unique symbol = Symbol.for("tusk/api/RefusedFields")

/**
 * The JSON type of a refused field in CloudNativePG's API. CEL only sees declared fields,
 * so the CRD declares each with its type and a rule that it is absent.
 */
export type RefusedFieldType = "object" | "array" | "stringArray" | "string" | "integer" | "boolean"

declare module "effect/Schema" {
  namespace Annotations {
    interface GenericSchema<A> extends Schema<A> {
      [RefusedFieldsId]?: Readonly<Record<string, RefusedFieldType>>
    }
  }
}

/** Attach the CloudNativePG fields this object refuses, with their types. */
export const refusing =
  (fields: Readonly<Record<string, RefusedFieldType>>) =>
  <S extends Schema.Annotable.All>(self: S): Schema.Annotable.Self<S> =>
    self.annotations({ [RefusedFieldsId]: fields })
