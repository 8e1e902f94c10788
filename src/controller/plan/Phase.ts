/** CloudNativePG's phase strings, which users and tools already match on. */
export const Phase = {
  settingUpPrimary: "Setting up primary",
  creatingReplica: "Creating a new replica",
  healthy: "Cluster in healthy state",
  waitingForInstances: "Waiting for the instances to become active",
  failingOver: "Failing over",
  switchover: "Switchover in progress",
  upgrading: "Upgrading cluster",
  waitingForUser: "Waiting for user action",
  restartingPrimary: "Primary instance is being restarted in-place",
  unrecoverable: "Cluster cannot proceed to reconciliation due to an unrecoverable state",
  scalingDown: "Scaling down replicas",
} as const
export type Phase = (typeof Phase)[keyof typeof Phase]
