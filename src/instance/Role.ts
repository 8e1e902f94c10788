/**
 * The instance's role as a typed state machine. `decide` is pure: from the previous role and
 * what the manager observed (the Cluster's status, the postmaster, the data directory) it
 * returns the next role and the one action to take. The manager executes the action and
 * observes again, so every transition is explicit and unit-tested.
 */
import { Data } from "effect"

/** Roles the instance goes through. */
export type Role = Data.TaggedEnum<{
  Starting: {}
  Standby: { readonly streaming: boolean }
  Primary: {}
  Promoting: {}
  Demoting: {}
  Fenced: {}
  Stopped: { readonly reason: string }
}>
export const Role = Data.taggedEnum<Role>()

/** What the postmaster is doing. */
export type Postmaster =
  | { readonly _tag: "NotRunning" }
  | { readonly _tag: "Starting" }
  | { readonly _tag: "Running"; readonly inRecovery: boolean }
  | { readonly _tag: "ShuttingDown" }

/** Everything `decide` looks at. */
export interface Observation {
  readonly self: string
  readonly targetPrimary: string | undefined
  readonly currentPrimary: string | undefined
  readonly fenced: boolean
  /** On-disk state of PGDATA: absent, a primary's, or a standby's (standby.signal present). */
  readonly data: "missing" | "primary" | "standby"
  readonly postmaster: Postmaster
  /** A WAL receiver is connected to some primary (standbys only). */
  readonly walReceiverActive: boolean
  /** Everything received has been replayed (standbys only). */
  readonly caughtUp: boolean
  /** The operator has seen the primary this instance would take over from stopped. */
  readonly predecessorStopped: boolean
  /** This standby replayed WAL that is not in its primary's history (see Divergence.ts): it must be rewound. */
  readonly diverged: boolean
  /** Neither the API server nor any peer has answered for the isolation bound (see Isolation.ts). */
  readonly isolated: boolean
}

/** The one thing the manager does next. */
export type Action = Data.TaggedEnum<{
  /** Nothing to do now; observe again later. */
  Wait: { readonly why: string }
  StartPostmaster: {}
  /** Fast shutdown: used to fence and to stop a primary that is no longer the target. */
  StopPostmaster: {}
  Promote: {}
  /** Record this instance as `status.currentPrimary`. */
  ReportPrimary: {}
  /** Bring a former primary's data onto the new primary's timeline (pg_rewind, else re-clone). */
  Rewind: { readonly from: string }
}>
export const Action = Data.taggedEnum<Action>()

export interface Decision {
  readonly role: Role
  readonly action: Action
}

const decision = (role: Role, action: Action): Decision => ({ role, action })

/** A primary that could not confirm it is still the one named (see Isolation.ts). */
export const isolatedRole = Role.Stopped({ reason: "isolated: neither the API server nor any peer answers" })

/** Data off the primary's timeline (a former primary's, a diverged standby's) follows only once the new primary has taken over. */
const rejoin = (o: Observation): Decision =>
  o.currentPrimary === o.targetPrimary && o.currentPrimary !== undefined
    ? decision(Role.Demoting(), Action.Rewind({ from: o.currentPrimary }))
    : decision(Role.Demoting(), Action.Wait({ why: "waiting for the new primary" }))

/** The next role and action. The previous role only refines waiting states. */
export const decide = (previous: Role, o: Observation): Decision => {
  const pm = o.postmaster
  const running = pm._tag === "Running" || pm._tag === "Starting"
  // Fencing wins over everything: stop the postmaster, keep the data.
  if (o.fenced) {
    return running ? decision(Role.Fenced(), Action.StopPostmaster()) : decision(Role.Fenced(), Action.Wait({ why: "fenced" }))
  }
  const lead = o.targetPrimary ?? o.currentPrimary
  const anotherLeads = lead !== undefined && lead !== o.self
  switch (pm._tag) {
    case "ShuttingDown":
      return decision(previous, Action.Wait({ why: "postmaster shutting down" }))
    case "Running":
      if (!pm.inRecovery) {
        // A primary must stop taking writes the moment another instance is named: first thing.
        if (anotherLeads) return decision(Role.Demoting(), Action.StopPostmaster())
        // Cut off from everyone, it cannot know whether another was named: stop taking writes.
        if (o.isolated) return decision(isolatedRole, Action.StopPostmaster())
        if (o.currentPrimary !== o.self) return decision(Role.Primary(), Action.ReportPrimary())
        return decision(Role.Primary(), Action.Wait({ why: "primary" }))
      }
      if (lead === o.self) {
        if (o.walReceiverActive) return decision(Role.Promoting(), Action.Wait({ why: "waiting for the WAL receiver to stop" }))
        // Never a second writer: the former primary must be known to have stopped first.
        if (!o.predecessorStopped) return decision(Role.Promoting(), Action.Wait({ why: "waiting for the former primary to be seen stopped" }))
        if (!o.caughtUp) return decision(Role.Promoting(), Action.Wait({ why: "replaying received WAL" }))
        return decision(Role.Promoting(), Action.Promote())
      }
      if (o.diverged) return decision(Role.Demoting(), Action.StopPostmaster())
      return decision(Role.Standby({ streaming: o.walReceiverActive }), Action.Wait({ why: "standby" }))
    case "Starting":
      // A primary's data starting while another leads cannot happen through StartPostmaster, but
      // a postmaster found starting must not come up as a second primary.
      if (o.data === "primary" && anotherLeads) return decision(Role.Demoting(), Action.StopPostmaster())
      if (o.data === "primary" && o.isolated) return decision(isolatedRole, Action.StopPostmaster())
      return decision(Role.Starting(), Action.Wait({ why: "postmaster starting" }))
    case "NotRunning":
      switch (o.data) {
        case "missing":
          return decision(Role.Stopped({ reason: "PGDATA is not initialised" }), Action.Wait({ why: "no data" }))
        case "standby":
          return o.diverged && anotherLeads ? rejoin(o) : decision(Role.Starting(), Action.StartPostmaster())
        case "primary":
          if (!anotherLeads) {
            return o.isolated ? decision(isolatedRole, Action.Wait({ why: isolatedRole.reason })) : decision(Role.Starting(), Action.StartPostmaster())
          }
          return rejoin(o)
      }
  }
}
