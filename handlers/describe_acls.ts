/**
 * DescribeAcls (key 29, KIP-140), versions 1-3: needs DESCRIBE on the
 * cluster; answers the ACLs matching the filter, grouped by resource pattern.
 */

import { DESCRIBE_ACLS_API } from "../protocol/generated/mod.ts";
import type { DescribeAclsResource } from "../protocol/generated/describe_acls.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type AclFilter, invalidFilter } from "../broker/acl.ts";
import { patternKey } from "../broker/acl_store.ts";
import { allowedCluster, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const describeAcls = defineHandler({
  api: DESCRIBE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  async handle(req, ctx) {
    const fail = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      resources: [],
    });
    const admin = ctx.broker.authorizer.acls;
    if (admin === null) return fail(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!allowedCluster(ctx, Op.DESCRIBE)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    const filter: AclFilter = {
      resourceType: req.resourceTypeFilter,
      patternType: req.patternTypeFilter,
      resourceName: req.resourceNameFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permission: req.permissionType,
    };
    const why = invalidFilter(filter);
    if (why !== null) return fail(ErrorCode.INVALID_REQUEST, why);
    let acls;
    try {
      acls = await admin.describe(filter);
    } catch (e) {
      return fail(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `The ACLs could not be read: ${e instanceof Error ? e.message : e}`,
      );
    }
    const byPattern = new Map<string, DescribeAclsResource>();
    for (const b of acls) {
      const k = patternKey(b);
      let r = byPattern.get(k);
      if (!r) {
        byPattern.set(
          k,
          r = {
            resourceType: b.resourceType,
            resourceName: b.resourceName,
            patternType: b.patternType,
            acls: [],
          },
        );
      }
      r.acls.push({
        principal: b.principal,
        host: b.host,
        operation: b.operation,
        permissionType: b.permission,
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      resources: [...byPattern.values()],
    };
  },
});
