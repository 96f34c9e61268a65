/**
 * The users named by `--sasl-users`, created or updated in the meta store at
 * start (issue 13: SCRAM credentials every broker sharing the stores sees).
 */

import type { MetaStore } from "../../stores/types.ts";

/** Creates or updates each user's SCRAM credentials; never logs a password. */
export function ensureSaslUsers(
  _meta: MetaStore,
  users: { name: string; password: string }[],
): Promise<void> {
  if (users.length === 0) return Promise.resolve();
  return Promise.reject(new Error("--sasl-users is not available yet"));
}
