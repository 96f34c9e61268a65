/**
 * SCRAM credentials in the meta store, so that every broker sharing the stores
 * authenticates every user: one entity per user under an entity type no
 * config or quota API reads, one key per mechanism, each value in Kafka's own
 * credential form (`salt=...,stored_key=...,server_key=...,iterations=N`,
 * ScramCredentialUtils). Passwords are never stored.
 */

import type { MetaStore } from "../../stores/types.ts";
import {
  fromBase64,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  toBase64,
} from "./scram_crypto.ts";

/** The meta store entity type of SCRAM users (not Kafka's "users" quota entity). */
export const SCRAM_ENTITY_TYPE = "scram-users";

export function formatCredential(c: ScramCredential): string {
  return `salt=${toBase64(c.salt)},stored_key=${toBase64(c.storedKey)},server_key=${
    toBase64(c.serverKey)
  },iterations=${c.iterations}`;
}

/** Reads a stored credential; null when it is not one (never authenticates). */
export function parseCredential(s: string): ScramCredential | null {
  const fields = new Map<string, string>();
  for (const part of s.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const salt = fromBase64(fields.get("salt") ?? "");
  const storedKey = fromBase64(fields.get("stored_key") ?? "");
  const serverKey = fromBase64(fields.get("server_key") ?? "");
  const iterations = Number(fields.get("iterations"));
  if (!salt || !storedKey || !serverKey || !Number.isInteger(iterations) || iterations <= 0) {
    return null;
  }
  return { salt, storedKey, serverKey, iterations };
}

/** A user's credentials by mechanism. */
export type UserCredentials = Map<ScramMechanism, ScramCredential>;

function toCredentials(configs: Record<string, string>): UserCredentials {
  const out: UserCredentials = new Map();
  for (const m of SCRAM_MECHANISMS) {
    const v = configs[m];
    if (v === undefined) continue;
    const c = parseCredential(v);
    if (c) out.set(m, c);
  }
  return out;
}

/** One user's credential for one mechanism, or null. */
export async function loadCredential(
  meta: MetaStore,
  user: string,
  m: ScramMechanism,
): Promise<ScramCredential | null> {
  const [e] = await meta.entityConfigs(SCRAM_ENTITY_TYPE, [user]);
  if (!e || e.name !== user) return null;
  return toCredentials(e.configs).get(m) ?? null;
}

/** The credentials of the users named, or of every user with one when `users` is null. */
export async function loadUsers(
  meta: MetaStore,
  users: string[] | null,
): Promise<Map<string, UserCredentials>> {
  const out = new Map<string, UserCredentials>();
  for (const e of await meta.entityConfigs(SCRAM_ENTITY_TYPE, users)) {
    const creds = toCredentials(e.configs);
    if (creds.size > 0) out.set(e.name, creds);
  }
  return out;
}

/** Sets (a credential) or removes (null) some of one user's mechanisms in one atomic step. */
export async function alterUser(
  meta: MetaStore,
  user: string,
  changes: Map<ScramMechanism, ScramCredential | null>,
): Promise<void> {
  const c: Record<string, string | null> = {};
  for (const [m, cred] of changes) c[m] = cred === null ? null : formatCredential(cred);
  await meta.alterEntityConfigs(SCRAM_ENTITY_TYPE, user, c);
}
