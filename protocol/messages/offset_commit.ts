/**
 * OffsetCommit (key 8): commits consumed offsets for a group. Kafka 4 serves
 * v2+ (v0-1 are gone). v2-4 carry a retention time; v6 adds the leader epoch;
 * v7 the static instance id (KIP-345); v8 is the first flexible version; v9 is
 * the first usable with the consumer protocol (KIP-848), where the generation
 * field carries the member epoch; v10 names topics by id (KIP-848, KIP-516).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "OffsetCommit",
  apiKey: 8,
  validVersions: "2-10",
  request: {
    name: "OffsetCommitRequest",
    flexibleVersions: "8+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      {
        name: "generationIdOrMemberEpoch",
        type: "int32",
        versions: "1+",
        default: -1,
        about: "Classic: generation id; consumer protocol (KIP-848): member epoch. -1: none.",
      },
      {
        name: "memberId",
        type: "string",
        versions: "1+",
        about: "Empty for commits from outside any group (e.g. admin).",
      },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "7+",
        nullableVersions: "7+",
        default: null,
        about: "KIP-345 static membership.",
      },
      {
        name: "retentionTimeMs",
        type: "int64",
        versions: "2-4",
        default: -1,
        about: "-1: broker default. Dropped in v5.",
      },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetCommitRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-9" },
          { name: "topicId", type: "uuid", versions: "10+", about: "KIP-516" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetCommitRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "committedOffset", type: "int64", versions: "0+" },
              { name: "committedLeaderEpoch", type: "int32", versions: "6+", default: -1 },
              {
                name: "committedMetadata",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "OffsetCommitResponse",
    flexibleVersions: "8+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "3+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetCommitResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-9" },
          { name: "topicId", type: "uuid", versions: "10+", about: "KIP-516" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetCommitResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
