/**
 * DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51),
 * KIP-554, answered as Kafka's ScramControlManager and ScramImage answer, over
 * the credentials in the meta store (broker/sasl/credentials.ts). Describe
 * lists mechanisms and iterations only. Alter takes a client-side salt and
 * salted password; StoredKey and ServerKey are derived here and the salted
 * password is not kept. Each user's changes are one atomic meta store step.
 */

import {
  ALTER_USER_SCRAM_CREDENTIALS_API,
  type AlterUserScramCredentialsResult,
  DESCRIBE_USER_SCRAM_CREDENTIALS_API,
  type DescribeUserScramCredentialsResult,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { alterUser, loadUsers } from "../broker/sasl/credentials.ts";
import {
  credentialFromSalted,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  SCRAM_MECHANISM_IDS,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  scramMechanismById,
} from "../broker/sasl/scram_crypto.ts";

export const describeUserScramCredentials = defineHandler({
  api: DESCRIBE_USER_SCRAM_CREDENTIALS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    // KIP-554: describing credentials needs DESCRIBE on the cluster.
    if (!allowedCluster(ctx, AclOperation.DESCRIBE)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        results: [],
      };
    }
    const asked = req.users === null || req.users.length === 0
      ? null
      : req.users.map((u) => u.name);
    const found = await loadUsers(ctx.broker.meta, asked === null ? null : [...new Set(asked)]);
    const results: DescribeUserScramCredentialsResult[] = [];
    const infos = (user: string) =>
      SCRAM_MECHANISMS.filter((m) => found.get(user)?.has(m)).map((m) => ({
        mechanism: SCRAM_MECHANISM_IDS[m],
        iterations: found.get(user)!.get(m)!.iterations,
      }));
    if (asked === null) {
      for (const user of found.keys()) {
        results.push({ user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) });
      }
    } else {
      const seen = new Set<string>();
      const duplicated = new Set(asked.filter((u) => seen.has(u) || !seen.add(u)));
      for (const user of new Set(asked)) {
        if (duplicated.has(user)) {
          results.push({
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage:
              `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
            credentialInfos: [],
          });
        } else if (!found.has(user)) {
          results.push({
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
            credentialInfos: [],
          });
        } else {
          results.push({ user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) });
        }
      }
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results };
  },
});

interface Refusal {
  code: number;
  message: string;
}

const TWICE: Refusal = {
  code: ErrorCode.DUPLICATE_RESOURCE,
  message: "A user credential cannot be altered twice in the same request",
};

function checkName(name: string, mechanism: number): Refusal | null {
  if (name === "") {
    return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Username must not be empty" };
  }
  if (scramMechanismById(mechanism) === null) {
    return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: "Unknown SCRAM mechanism" };
  }
  return null;
}

export const alterUserScramCredentials = defineHandler({
  api: ALTER_USER_SCRAM_CREDENTIALS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    // KIP-554: altering credentials needs ALTER on the cluster; every user is refused.
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        results: [...req.deletions, ...req.upsertions].map((u) => ({
          user: u.name,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: "Cluster authorization failed.",
        })),
      };
    }
    const meta = ctx.broker.meta;
    const names = [...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)];
    const existing = await loadUsers(meta, [...new Set(names)].filter((n) => n !== ""));
    // One change per user: a second one, deletion or upsertion, refuses the user.
    const errors = new Map<string, Refusal>();
    const changes = new Map<string, Map<ScramMechanism, ScramCredential | null>>();
    for (const d of req.deletions) {
      if (errors.has(d.name)) continue;
      if (changes.delete(d.name)) {
        errors.set(d.name, TWICE);
        continue;
      }
      const bad = checkName(d.name, d.mechanism);
      const m = scramMechanismById(d.mechanism)!;
      if (bad) errors.set(d.name, bad);
      else if (!existing.get(d.name)?.has(m)) {
        errors.set(d.name, {
          code: ErrorCode.RESOURCE_NOT_FOUND,
          message: "Attempt to delete a user credential that does not exist",
        });
      } else changes.set(d.name, new Map([[m, null]]));
    }
    for (const u of req.upsertions) {
      if (errors.has(u.name)) continue;
      if (changes.delete(u.name)) {
        errors.set(u.name, TWICE);
        continue;
      }
      const bad = checkName(u.name, u.mechanism) ??
        (u.iterations < MIN_ITERATIONS
          ? { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too few iterations" }
          : u.iterations > MAX_ITERATIONS
          ? { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too many iterations" }
          : null);
      if (bad) {
        errors.set(u.name, bad);
        continue;
      }
      const m = scramMechanismById(u.mechanism)!;
      const cred = await credentialFromSalted(m, u.saltedPassword, u.salt, u.iterations);
      changes.set(u.name, new Map([[m, cred]]));
    }
    const results: AlterUserScramCredentialsResult[] = [];
    for (const [user, change] of changes) {
      await alterUser(meta, user, change);
      results.push({ user, errorCode: 0, errorMessage: null });
    }
    for (const [user, e] of errors) {
      results.push({ user, errorCode: e.code, errorMessage: e.message });
    }
    return { throttleTimeMs: 0, results };
  },
});
