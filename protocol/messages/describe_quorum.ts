/**
 * DescribeQuorum (key 55, KIP-595): the state of the KRaft metadata quorum,
 * its leader, voters and observers. Flexible in every version. v1 adds when
 * each replica last fetched and caught up (KIP-836); v2 adds error messages,
 * each replica's directory id and the voters' listeners (KIP-853).
 */
import type { ApiDef, FieldDef } from "../schema.ts";

/** One replica of the metadata partition, as a voter or an observer. */
/** Our generator names each struct once, so voters and observers get a name each. */
const replicaState = (name: string, structName: string): FieldDef => ({
  name,
  type: "[]struct",
  structName,
  versions: "0+",
  fields: [
    { name: "replicaId", type: "int32", versions: "0+" },
    { name: "replicaDirectoryId", type: "uuid", versions: "2+", about: "KIP-853" },
    { name: "logEndOffset", type: "int64", versions: "0+", about: "-1 when unknown" },
    {
      name: "lastFetchTimestamp",
      type: "int64",
      versions: "1+",
      default: -1,
      about: "Leader's clock at the replica's last fetch; -1 for the leader itself (KIP-836)",
    },
    {
      name: "lastCaughtUpTimestamp",
      type: "int64",
      versions: "1+",
      default: -1,
      about: "Leader's clock when the replica last reached the log end; now for the leader",
    },
  ],
});

export default {
  name: "DescribeQuorum",
  apiKey: 55,
  validVersions: "0-2",
  request: {
    name: "DescribeQuorumRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeQuorumRequestTopic",
        versions: "0+",
        about: "In practice __cluster_metadata partition 0",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DescribeQuorumRequestPartition",
            versions: "0+",
            fields: [{ name: "partitionIndex", type: "int32", versions: "0+" }],
          },
        ],
      },
    ],
  },
  response: {
    name: "DescribeQuorumResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "2+", nullableVersions: "2+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeQuorumResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DescribeQuorumResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "errorMessage", type: "string", versions: "2+", nullableVersions: "2+" },
              { name: "leaderId", type: "int32", versions: "0+", about: "-1 when unknown" },
              { name: "leaderEpoch", type: "int32", versions: "0+" },
              { name: "highWatermark", type: "int64", versions: "0+" },
              replicaState("currentVoters", "DescribeQuorumVoter"),
              replicaState("observers", "DescribeQuorumObserver"),
            ],
          },
        ],
      },
      {
        name: "nodes",
        type: "[]struct",
        structName: "DescribeQuorumResponseNode",
        versions: "2+",
        about: "Where each voter listens (KIP-853)",
        fields: [
          { name: "nodeId", type: "int32", versions: "2+" },
          {
            name: "listeners",
            type: "[]struct",
            structName: "DescribeQuorumResponseListener",
            versions: "2+",
            fields: [
              { name: "name", type: "string", versions: "2+" },
              { name: "host", type: "string", versions: "2+" },
              { name: "port", type: "uint16", versions: "2+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
