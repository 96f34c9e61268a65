/**
 * OffsetFetch (key 9): committed offsets of a group. Kafka 4 serves v1+. v2+
 * accept null topics (all topics) and answer with a top-level error; v5 adds
 * leader epochs; v6 is the first flexible version; v7 adds requireStable; v8
 * asks about several groups at once and moves everything into `groups`
 * (KIP-709 multi-group OffsetFetch); v9 adds member id and epoch for the
 * consumer protocol (KIP-848); v10 names topics by id (KIP-848, KIP-516).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "OffsetFetch",
  apiKey: 9,
  validVersions: "1-10",
  request: {
    name: "OffsetFetchRequest",
    flexibleVersions: "6+",
    fields: [
      { name: "groupId", type: "string", versions: "0-7", about: "The single group, v1-7." },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetFetchRequestTopic",
        versions: "0-7",
        nullableVersions: "2-7",
        about: "Null (v2+): every topic the group has offsets for.",
        fields: [
          { name: "name", type: "string", versions: "0-7" },
          { name: "partitionIndexes", type: "[]int32", versions: "0-7" },
        ],
      },
      {
        name: "groups",
        type: "[]struct",
        structName: "OffsetFetchRequestGroup",
        versions: "8+",
        about: "KIP-709 multi-group OffsetFetch.",
        fields: [
          { name: "groupId", type: "string", versions: "8+" },
          {
            name: "memberId",
            type: "string",
            versions: "9+",
            nullableVersions: "9+",
            default: null,
            about: "Set by consumer-protocol members (KIP-848).",
          },
          {
            name: "memberEpoch",
            type: "int32",
            versions: "9+",
            default: -1,
            about: "KIP-848; -1 when not a consumer-protocol member.",
          },
          {
            name: "topics",
            type: "[]struct",
            structName: "OffsetFetchRequestGroupTopic",
            versions: "8+",
            nullableVersions: "8+",
            about: "Null: every topic the group has offsets for.",
            fields: [
              { name: "name", type: "string", versions: "8-9" },
              { name: "topicId", type: "uuid", versions: "10+", about: "KIP-516" },
              { name: "partitionIndexes", type: "[]int32", versions: "8+" },
            ],
          },
        ],
      },
      {
        name: "requireStable",
        type: "bool",
        versions: "7+",
        default: false,
        about: "Answer UNSTABLE_OFFSET_COMMIT for partitions with pending transactional commits.",
      },
    ],
  },
  response: {
    name: "OffsetFetchResponse",
    flexibleVersions: "6+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "3+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetFetchResponseTopic",
        versions: "0-7",
        fields: [
          { name: "name", type: "string", versions: "0-7" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetFetchResponsePartition",
            versions: "0-7",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0-7" },
              {
                name: "committedOffset",
                type: "int64",
                versions: "0-7",
                about: "-1: no committed offset.",
              },
              { name: "committedLeaderEpoch", type: "int32", versions: "5-7", default: -1 },
              { name: "metadata", type: "string", versions: "0-7", nullableVersions: "0-7" },
              { name: "errorCode", type: "int16", versions: "0-7" },
            ],
          },
        ],
      },
      {
        name: "errorCode",
        type: "int16",
        versions: "2-7",
        default: 0,
        about: "Group-level error, v2-7.",
      },
      {
        name: "groups",
        type: "[]struct",
        structName: "OffsetFetchResponseGroup",
        versions: "8+",
        fields: [
          { name: "groupId", type: "string", versions: "8+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "OffsetFetchResponseGroupTopic",
            versions: "8+",
            fields: [
              { name: "name", type: "string", versions: "8-9" },
              { name: "topicId", type: "uuid", versions: "10+", about: "KIP-516" },
              {
                name: "partitions",
                type: "[]struct",
                structName: "OffsetFetchResponseGroupPartition",
                versions: "8+",
                fields: [
                  { name: "partitionIndex", type: "int32", versions: "8+" },
                  { name: "committedOffset", type: "int64", versions: "8+" },
                  { name: "committedLeaderEpoch", type: "int32", versions: "8+", default: -1 },
                  { name: "metadata", type: "string", versions: "8+", nullableVersions: "8+" },
                  { name: "errorCode", type: "int16", versions: "8+" },
                ],
              },
            ],
          },
          { name: "errorCode", type: "int16", versions: "8+", default: 0 },
        ],
      },
    ],
  },
} satisfies ApiDef;
