/**
 * OffsetForLeaderEpoch (key 23, KIP-101/KIP-279): the end offset of a leader
 * epoch, used by consumers to detect log truncation (KIP-320). Versions 0-1 were
 * dropped in Kafka 4.0. v2 adds the current leader epoch for fencing; v3 adds the
 * replica ID; v4 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "OffsetForLeaderEpoch",
  apiKey: 23,
  validVersions: "2-4",
  request: {
    name: "OffsetForLeaderEpochRequest",
    flexibleVersions: "4+",
    fields: [
      {
        name: "replicaId",
        type: "int32",
        versions: "3+",
        default: -2,
        about: "Follower broker ID; -1 for consumers, -2 (debug) when absent",
      },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetForLeaderEpochRequestTopic",
        versions: "0+",
        fields: [
          { name: "topic", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetForLeaderEpochRequestPartition",
            versions: "0+",
            fields: [
              { name: "partition", type: "int32", versions: "0+" },
              {
                name: "currentLeaderEpoch",
                type: "int32",
                versions: "2+",
                default: -1,
                about: "The caller's known leader epoch, for fencing (KIP-320)",
              },
              { name: "leaderEpoch", type: "int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "OffsetForLeaderEpochResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetForLeaderEpochResponseTopic",
        versions: "0+",
        fields: [
          { name: "topic", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetForLeaderEpochResponsePartition",
            versions: "0+",
            fields: [
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "partition", type: "int32", versions: "0+" },
              { name: "leaderEpoch", type: "int32", versions: "1+", default: -1 },
              { name: "endOffset", type: "int64", versions: "0+", default: -1 },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
