/**
 * The feature levels this broker finalizes (KIP-584): what ApiVersions v3+
 * advertises and what UpdateFeatures compares requests against. The table
 * lists every feature Apache Kafka 4.4 knows, in the order Kafka 4.4 lists
 * them. A feature's supported range never reaches past what this broker
 * implements: share groups (KIP-932), streams groups (KIP-1071),
 * eligible leader replicas (KIP-966) and
 * dynamic KRaft voters (KIP-853) are all at level 0 (off). Levels come with the
 * broker's release, not with anything stored: brokers here keep no state, so
 * there is no metadata log whose records could raise or lower them.
 */

/** One feature: the levels this broker can run at, and the one it runs at. */
export interface Feature {
  name: string;
  minVersion: number;
  maxVersion: number;
  /** The finalized level; 0 means the feature is off. */
  level: number;
}

/** metadata.version 33 is Kafka 4.4's latest production level, "4.4-IV2". */
export const METADATA_VERSION = 33;

/** Every feature, as Kafka 4.4 orders them in ApiVersions. */
export const FEATURES: readonly Feature[] = [
  // KIP-848 consumer groups are served (ConsumerGroupHeartbeat), as is the classic protocol.
  { name: "group.version", minVersion: 0, maxVersion: 1, level: 1 },
  // A static quorum of one voter; voters cannot be added or removed (AddRaftVoter answers so).
  { name: "kraft.version", minVersion: 0, maxVersion: 0, level: 0 },
  // Our answers follow 4.4-IV2's semantics only, so that is the one level supported.
  {
    name: "metadata.version",
    minVersion: METADATA_VERSION,
    maxVersion: METADATA_VERSION,
    level: METADATA_VERSION,
  },
  // KIP-932 share groups are served, with KIP-1222 renew acknowledgements (ShareFetch and
  // ShareAcknowledge v2): finalized at 2 as Kafka 4.4 does.
  { name: "share.version", minVersion: 0, maxVersion: 2, level: 2 },
  // KIP-1071 streams groups are served (StreamsGroupHeartbeat), finalized as Kafka 4.4 does.
  { name: "streams.version", minVersion: 0, maxVersion: 1, level: 1 },
  // Transactions v2 (KIP-890 part 2, broker/txn_state.ts) as Kafka 4.4 finalizes by default:
  // an epoch bump at every EndTxn v5, partitions added by Produce v12+. Clients that speak v1
  // (EndTxn v0-4, AddPartitionsToTxn) are served v1, as Kafka serves them.
  { name: "transaction.version", minVersion: 0, maxVersion: 2, level: 2 },
  { name: "eligible.leader.replicas.version", minVersion: 0, maxVersion: 0, level: 0 },
];

/**
 * The epoch of the finalized levels. Kafka uses the metadata log offset of
 * the last level change; ours never change, so the epoch is the first one.
 */
export const FINALIZED_FEATURES_EPOCH = 0;

/** A feature by name, or undefined for one Kafka 4.4 does not know. */
export function feature(name: string): Feature | undefined {
  return FEATURES.find((f) => f.name === name);
}

/** The level of a feature (0 when unknown or off). */
export function featureLevel(name: string): number {
  return feature(name)?.level ?? 0;
}
