/**
 * The KRaft quorum as this broker presents it: brokers here keep no state and
 * run no Raft log (the meta store is the source of truth), so each broker
 * answers as the one voter, and leader, of a static quorum of one (kraft.version
 * 0), as a single-node Kafka in combined mode does.
 */

import { ZERO_UUID } from "../protocol/reader.ts";
import type { RequestContext } from "./types.ts";

/** The metadata log's topic and partition, as KRaft names them. */
export const METADATA_TOPIC = "__cluster_metadata";
export const METADATA_PARTITION = 0;

/** The leader epoch we report: the quorum's first and only leadership. */
export const QUORUM_LEADER_EPOCH = 1;

/** The one listener a broker has; it serves clients and quorum requests alike. */
export const LISTENER_NAME = "PLAINTEXT";

/** Static voters have no directory id (KIP-853: only kraft.version 1 records them). */
export const VOTER_DIRECTORY_ID = ZERO_UUID;

/** Why voters and controllers cannot change, said in every refusal. */
export const NO_QUORUM =
  "brokers here keep no state and run no Raft quorum (the meta store is the source of truth), so there is no voter set to change";

/**
 * Kafka's answer to a request naming another cluster (INCONSISTENT_CLUSTER_ID),
 * or null when the request names ours or none.
 */
export function clusterIdMismatch(ctx: RequestContext, clusterId: string | null): string | null {
  if (clusterId === null || clusterId === ctx.broker.clusterId) return null;
  return `The given id "${clusterId}" doesn't match the cluster id "${ctx.broker.clusterId}"`;
}
