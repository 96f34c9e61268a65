/**
 * DescribeCluster (key 60), versions 0-2: the brokers, the cluster id and the
 * controller (every broker is its own controller: there is no controller
 * quorum, the meta store is the source of truth). Authorized operations
 * (KIP-430) are every cluster operation, until ACLs exist.
 */

import { DESCRIBE_CLUSTER_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { clusterBrokers } from "./cluster.ts";
import { clusterAuthorizedOperations } from "./_authorized_operations.ts";
import { defineHandler } from "./types.ts";

export const describeCluster = defineHandler({
  api: DESCRIBE_CLUSTER_API,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: req.endpointType,
      clusterId: ctx.broker.clusterId,
      controllerId: ctx.broker.config.nodeId,
      brokers: clusterBrokers(ctx).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
        isFenced: false,
      })),
      clusterAuthorizedOperations: clusterAuthorizedOperations(
        req.includeClusterAuthorizedOperations,
        ctx,
      ),
    });
  },
});
