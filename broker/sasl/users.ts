/**
 * The users named by `--sasl-users`, created or updated in the meta store at
 * start (issue 13: SCRAM credentials every broker sharing the stores sees).
 * Both SCRAM mechanisms get a credential with a fresh random salt; one whose
 * password still matches is left alone, so brokers restarting with the same
 * flags do not rewrite each other's credentials.
 */

import { getLogger } from "@logtape/logtape";
import type { MetaStore } from "../../stores/types.ts";
import { alterUser, loadUsers } from "./credentials.ts";
import {
  credentialFromPassword,
  MIN_ITERATIONS,
  passwordMatches,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
} from "./scram_crypto.ts";

const log = getLogger(["skb", "sasl"]);

/** Iterations of the credentials made at start (Kafka's minimum, 4096, doubled). */
export const START_ITERATIONS = 2 * MIN_ITERATIONS;

/** Creates or updates each user's SCRAM credentials; never logs a password. */
export async function ensureSaslUsers(
  meta: MetaStore,
  users: { name: string; password: string }[],
): Promise<void> {
  if (users.length === 0) return;
  const existing = await loadUsers(meta, users.map((u) => u.name));
  for (const u of users) {
    if (u.name === "") throw new Error("--sasl-users names a user with an empty name");
    const have = existing.get(u.name);
    const changes = new Map<ScramMechanism, ScramCredential | null>();
    for (const m of SCRAM_MECHANISMS) {
      const cred = have?.get(m);
      if (cred && await passwordMatches(m, cred, u.password)) continue;
      changes.set(m, await credentialFromPassword(m, u.password, START_ITERATIONS));
    }
    if (changes.size === 0) continue;
    await alterUser(meta, u.name, changes);
    log.info("SCRAM credentials of user {user} set for {mechanisms} (--sasl-users)", {
      user: u.name,
      mechanisms: [...changes.keys()].join(", "),
    });
  }
}
