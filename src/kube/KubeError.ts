/**
 * Failures of Kubernetes API calls as tagged values, decoded from the metav1.Status the
 * API server returns (in error responses and in watch ERROR events).
 */
import { Data, Duration, Option, Schema } from "effect"

/** One field-level cause of an Invalid (422) response. */
export const StatusCause = Schema.Struct({
  reason: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  field: Schema.optional(Schema.String),
})
export type StatusCause = typeof StatusCause.Type

/** metav1.Status, only the fields callers act on. */
export const Status = Schema.Struct({
  kind: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  code: Schema.optional(Schema.Number),
  details: Schema.optional(
    Schema.Struct({
      name: Schema.optional(Schema.String),
      group: Schema.optional(Schema.String),
      kind: Schema.optional(Schema.String),
      uid: Schema.optional(Schema.String),
      causes: Schema.optional(Schema.Array(StatusCause)),
      retryAfterSeconds: Schema.optional(Schema.Number),
    }),
  ),
})
export type Status = typeof Status.Type

interface Base {
  readonly message: string
  readonly status?: Status | undefined
}

/** 404: the object (or the namespace) does not exist. */
export class NotFound extends Data.TaggedError("NotFound")<Base> {}
/** 409 on update: the resourceVersion or a precondition no longer matches. */
export class Conflict extends Data.TaggedError("Conflict")<Base> {}
/** 409 on create: an object of that name exists. */
export class AlreadyExists extends Data.TaggedError("AlreadyExists")<Base> {}
/** 410: the requested resourceVersion has been compacted away; relist. */
export class Gone extends Data.TaggedError("Gone")<Base> {}
/** 401: the credentials were refused. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<Base> {}
/** 403: RBAC (or an admission rule) forbids the request. */
export class Forbidden extends Data.TaggedError("Forbidden")<Base> {}
/** 422: the object failed validation; `causes` names the fields. */
export class Invalid extends Data.TaggedError("Invalid")<
  Base & { readonly causes: ReadonlyArray<StatusCause> }
> {}
/** Transient: network failure, 429 or 5xx; `retryAfter` when the server said so. */
export class Unavailable extends Data.TaggedError("Unavailable")<
  Base & { readonly code: number | undefined; readonly retryAfter: Option.Option<Duration.Duration> }
> {}
/** Any other refusal (400, 405, 415, ...), kept with its HTTP code. */
export class ApiError extends Data.TaggedError("ApiError")<Base & { readonly code: number }> {}
/** The server answered, but not with what the schema expects. */
export class Malformed extends Data.TaggedError("Malformed")<{ readonly message: string }> {}

/** Every way a Kubernetes API call can fail. */
export type KubeError =
  | NotFound
  | Conflict
  | AlreadyExists
  | Gone
  | Unauthorized
  | Forbidden
  | Invalid
  | Unavailable
  | ApiError
  | Malformed

const decodeStatus = Schema.decodeUnknownOption(Status)

const parseRetryAfter = (header: string | null | undefined, status: Status | undefined) => {
  const seconds = header != null && /^\d+$/.test(header.trim())
    ? Number(header.trim())
    : status?.details?.retryAfterSeconds
  return seconds === undefined ? Option.none() : Option.some(Duration.seconds(seconds))
}

/**
 * Classify an error answer. `body` is the parsed JSON body (a Status when the API server
 * produced it; anything else when a proxy did); `code` the HTTP code (for watch ERROR
 * events, the Status' own code).
 */
/** Whether a refusal says the namespace is being deleted (nothing new can be created in it). */
export const isNamespaceTerminating = (e: KubeError): boolean =>
  e._tag === "Forbidden" && (e.status?.details?.causes?.some((c) => c.reason === "NamespaceTerminating") ?? false)

export const fromStatus = (code: number, body: unknown, retryAfterHeader?: string | null): KubeError => {
  const status = Option.getOrUndefined(decodeStatus(body))
  const message = status?.message ?? `HTTP ${code}`
  const reason = status?.reason
  const base = { message, status }
  if (reason === "Expired" || reason === "Gone" || code === 410) return new Gone(base)
  if (reason === "AlreadyExists") return new AlreadyExists(base)
  if (reason === "Conflict" || code === 409) return new Conflict(base)
  if (reason === "NotFound" || code === 404) return new NotFound(base)
  if (reason === "Invalid" || code === 422) {
    return new Invalid({ ...base, causes: status?.details?.causes ?? [] })
  }
  if (reason === "Forbidden" || code === 403) return new Forbidden(base)
  if (reason === "Unauthorized" || code === 401) return new Unauthorized(base)
  if (code === 429 || code >= 500 || reason === "ServerTimeout" || reason === "Timeout" || reason === "TooManyRequests") {
    return new Unavailable({ ...base, code, retryAfter: parseRetryAfter(retryAfterHeader, status) })
  }
  return new ApiError({ ...base, code })
}

/** A request that never got an answer (connection refused, reset, TLS, timeout). */
export const fromNetwork = (cause: unknown): Unavailable =>
  new Unavailable({
    message: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause),
    code: undefined,
    retryAfter: Option.none(),
  })

/** True for the failures worth retrying as they are. */
export const isTransient = (e: KubeError): e is Unavailable => e._tag === "Unavailable"
