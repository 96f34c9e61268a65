/**
 * ListPartitionReassignments (key 46), version 0 (KIP-455): the reassignments
 * in progress. The stores replicate every partition and replicas never move
 * (see alter_partition_reassignments.ts), so there are none. Like Kafka's
 * controller, which lists only partitions being reassigned, named topics or
 * partitions that do not exist are left out rather than answered with an
 * error.
 */

import { LIST_PARTITION_REASSIGNMENTS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const listPartitionReassignments = defineHandler({
  api: LIST_PARTITION_REASSIGNMENTS_API,
  minVersion: 0,
  maxVersion: 0,
  handle(_req, ctx) {
    if (!allowedCluster(ctx, AclOperation.DESCRIBE)) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        topics: [],
      });
    }
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [],
    });
  },
});
