/**
 * ListOffsets (key 2): finds the offset for a timestamp, or for the special
 * timestamps -1 (latest), -2 (earliest), -3 (max timestamp, v7, KIP-734),
 * -4 (local log start, v8, KIP-405), -5 (last tiered offset, v9, KIP-1005) and
 * -6 (earliest offset not yet uploaded to tiered storage, v11, KIP-1023).
 * Version 6 is the first flexible one; 10 adds a timeout (KIP-1075).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ListOffsets",
  apiKey: 2,
  validVersions: "1-11",
  request: {
    name: "ListOffsetsRequest",
    flexibleVersions: "6+",
    fields: [
      {
        name: "replicaId",
        type: "int32",
        versions: "0+",
        about: "Requesting broker's ID, or -1 for consumers.",
      },
      {
        name: "isolationLevel",
        type: "int8",
        versions: "2+",
        about: "0: read uncommitted, 1: read committed (latest means the LSO).",
      },
      {
        name: "topics",
        type: "[]struct",
        structName: "ListOffsetsRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ListOffsetsRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "currentLeaderEpoch", type: "int32", versions: "4+", default: -1 },
              {
                name: "timestamp",
                type: "int64",
                versions: "0+",
                about: "Target timestamp, or one of the negative special values.",
              },
            ],
          },
        ],
      },
      {
        name: "timeoutMs",
        type: "int32",
        versions: "10+",
        about: "Bound on remote (tiered) lookups (KIP-1075).",
      },
    ],
  },
  response: {
    name: "ListOffsetsResponse",
    flexibleVersions: "6+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "ListOffsetsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ListOffsetsResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "timestamp", type: "int64", versions: "1+", default: -1 },
              { name: "offset", type: "int64", versions: "1+", default: -1 },
              { name: "leaderEpoch", type: "int32", versions: "4+", default: -1 },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
