/**
 * CreateAcls (key 30, KIP-140), versions 1-3: needs ALTER on the cluster.
 * Each binding is checked as Kafka checks it (INVALID_REQUEST with Kafka's
 * message); the valid ones are stored, in force on every broker sharing the
 * meta store within about a second and on this one at once.
 */

import { CREATE_ACLS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type AclBinding, invalidBinding } from "../broker/acl.ts";
import { allowedCluster, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const createAcls = defineHandler({
  api: CREATE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  async handle(req, ctx) {
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: req.creations.map(() => ({ errorCode, errorMessage })),
    });
    const admin = ctx.broker.authorizer.acls;
    if (admin === null) return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!allowedCluster(ctx, Op.ALTER)) {
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    const results: { errorCode: number; errorMessage: string | null }[] = [];
    const valid: AclBinding[] = [];
    for (const c of req.creations) {
      const b: AclBinding = {
        resourceType: c.resourceType,
        patternType: c.resourcePatternType,
        resourceName: c.resourceName,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permission: c.permissionType,
      };
      const why = invalidBinding(b);
      results.push(
        why === null
          ? { errorCode: ErrorCode.NONE, errorMessage: null }
          : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why },
      );
      if (why === null) valid.push(b);
    }
    if (valid.length > 0) {
      try {
        await admin.create(valid);
      } catch (e) {
        const msg = `The ACLs could not be stored: ${e instanceof Error ? e.message : e}`;
        for (const r of results) {
          if (r.errorCode === ErrorCode.NONE) {
            r.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
            r.errorMessage = msg;
          }
        }
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
