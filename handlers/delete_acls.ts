/**
 * DeleteAcls (key 31, KIP-140), versions 1-3: needs ALTER on the cluster;
 * removes the ACLs each filter matches and answers them per filter.
 */

import { DELETE_ACLS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type AclFilter, invalidFilter } from "../broker/acl.ts";
import { allowedCluster, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const deleteAcls = defineHandler({
  api: DELETE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  async handle(req, ctx) {
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    const admin = ctx.broker.authorizer.acls;
    if (admin === null) return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
    if (!allowedCluster(ctx, Op.ALTER)) {
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    const filters: AclFilter[] = req.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      patternType: f.patternTypeFilter,
      resourceName: f.resourceNameFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permission: f.permissionType,
    }));
    const invalid = filters.map(invalidFilter);
    const usable = filters.filter((_, i) => invalid[i] === null);
    let removed: Awaited<ReturnType<typeof admin.delete>>;
    try {
      removed = usable.length > 0 ? await admin.delete(usable) : [];
    } catch (e) {
      return all(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `The ACLs could not be deleted: ${e instanceof Error ? e.message : e}`,
      );
    }
    let next = 0;
    return {
      throttleTimeMs: 0,
      filterResults: invalid.map((why) => {
        if (why !== null) {
          return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: why, matchingAcls: [] };
        }
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          matchingAcls: removed[next++].map((b) => ({
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            resourceType: b.resourceType,
            resourceName: b.resourceName,
            patternType: b.patternType,
            principal: b.principal,
            host: b.host,
            operation: b.operation,
            permissionType: b.permission,
          })),
        };
      }),
    };
  },
});
