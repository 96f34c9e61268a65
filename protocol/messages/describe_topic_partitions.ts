/**
 * DescribeTopicPartitions (key 75, KIP-966): topics and their partitions like
 * Metadata, plus eligible leader replicas, paged by a partition limit and a
 * cursor. Flexible in its only version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeTopicPartitions",
  apiKey: 75,
  validVersions: "0",
  request: {
    name: "DescribeTopicPartitionsRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeTopicPartitionsRequestTopic",
        versions: "0+",
        about: "Empty: every topic.",
        fields: [{ name: "name", type: "string", versions: "0+" }],
      },
      {
        name: "responsePartitionLimit",
        type: "int32",
        versions: "0+",
        default: 2000,
        about: "The most partitions one response holds.",
      },
      {
        name: "cursor",
        type: "struct",
        structName: "DescribeTopicPartitionsRequestCursor",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Where to start: a topic and a partition of it; null starts at the first.",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          { name: "partitionIndex", type: "int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "DescribeTopicPartitionsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeTopicPartitionsResponseTopic",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "name", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "topicId", type: "uuid", versions: "0+" },
          { name: "isInternal", type: "bool", versions: "0+", default: false },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DescribeTopicPartitionsResponsePartition",
            versions: "0+",
            fields: [
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "leaderId", type: "int32", versions: "0+" },
              { name: "leaderEpoch", type: "int32", versions: "0+", default: -1 },
              { name: "replicaNodes", type: "[]int32", versions: "0+" },
              { name: "isrNodes", type: "[]int32", versions: "0+" },
              {
                name: "eligibleLeaderReplicas",
                type: "[]int32",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
                about: "Replicas that may become leader without data loss (KIP-966).",
              },
              {
                name: "lastKnownElr",
                type: "[]int32",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
                about:
                  "The eligible leader replicas last known before the partition lost its leader.",
              },
              { name: "offlineReplicas", type: "[]int32", versions: "0+" },
            ],
          },
          {
            name: "topicAuthorizedOperations",
            type: "int32",
            versions: "0+",
            default: -2147483648,
            about: "Bit field of allowed ACL operations (KIP-430).",
          },
        ],
      },
      {
        name: "nextCursor",
        type: "struct",
        structName: "DescribeTopicPartitionsResponseCursor",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Where the next page starts; null when nothing remains.",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          { name: "partitionIndex", type: "int32", versions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
