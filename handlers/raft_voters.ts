/**
 * AddRaftVoter (key 80), versions 0-1, and RemoveRaftVoter (key 81), version
 * 0 (KIP-853): change the KRaft voter set. The quorum here is a static one of
 * one voter (kraft.version 0) that nothing stores, so both are refused as
 * Kafka refuses them at kraft.version 0, with UNSUPPORTED_VERSION, after
 * Kafka's own checks in Kafka's order: another cluster's id answers
 * INCONSISTENT_CLUSTER_ID, a voter without an id or a directory id (and, for
 * AddRaftVoter, without an endpoint) answers INVALID_REQUEST.
 */

import {
  ADD_RAFT_VOTER_API,
  type AddRaftVoterResponse,
  REMOVE_RAFT_VOTER_API,
  type RemoveRaftVoterResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { clusterIdMismatch, NO_QUORUM, VOTER_DIRECTORY_ID } from "./_quorum.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

function answer(errorCode: number, errorMessage: string) {
  return Promise.resolve({ throttleTimeMs: 0, errorCode, errorMessage });
}

/** True when a voter is named by a replica id and a directory id, as KIP-853 needs. */
const validVoter = (id: number, dir: string) => id >= 0 && dir !== VOTER_DIRECTORY_ID;

export const addRaftVoter = defineHandler({
  api: ADD_RAFT_VOTER_API,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx): Promise<AddRaftVoterResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
      });
    }
    const mismatch = clusterIdMismatch(ctx, req.clusterId);
    if (mismatch) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID, mismatch);
    if (!validVoter(req.voterId, req.voterDirectoryId)) {
      return answer(ErrorCode.INVALID_REQUEST, "Add voter request didn't include a valid voter");
    }
    if (req.listeners.length === 0) {
      return answer(ErrorCode.INVALID_REQUEST, "Add voter request didn't include an endpoint");
    }
    return answer(
      ErrorCode.UNSUPPORTED_VERSION,
      `Cluster doesn't support adding voter because the kraft.version feature is 0: ${NO_QUORUM}`,
    );
  },
});

export const removeRaftVoter = defineHandler({
  api: REMOVE_RAFT_VOTER_API,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx): Promise<RemoveRaftVoterResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
      });
    }
    const mismatch = clusterIdMismatch(ctx, req.clusterId);
    if (mismatch) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID, mismatch);
    if (!validVoter(req.voterId, req.voterDirectoryId)) {
      return answer(ErrorCode.INVALID_REQUEST, "Remove voter request didn't include a valid voter");
    }
    return answer(
      ErrorCode.UNSUPPORTED_VERSION,
      `Cluster doesn't support removing voter because the kraft.version feature is 0: ${NO_QUORUM}`,
    );
  },
});
