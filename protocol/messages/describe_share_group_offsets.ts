/**
 * DescribeShareGroupOffsets (key 90): the share-partition start offsets of
 * share groups (KIP-932), all of a group's share-partitions or the topics
 * asked for. Version 1 adds the lag (KIP-1226).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeShareGroupOffsets",
  apiKey: 90,
  validVersions: "0-1",
  request: {
    name: "DescribeShareGroupOffsetsRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "groups",
        type: "[]struct",
        structName: "DescribeShareGroupOffsetsRequestGroup",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "DescribeShareGroupOffsetsRequestTopic",
            versions: "0+",
            nullableVersions: "0+",
            about: "Null: every topic the group has share-partitions of.",
            fields: [
              { name: "topicName", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "DescribeShareGroupOffsetsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "DescribeShareGroupOffsetsResponseGroup",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "DescribeShareGroupOffsetsResponseTopic",
            versions: "0+",
            fields: [
              { name: "topicName", type: "string", versions: "0+" },
              { name: "topicId", type: "uuid", versions: "0+" },
              {
                name: "partitions",
                type: "[]struct",
                structName: "DescribeShareGroupOffsetsResponsePartition",
                versions: "0+",
                fields: [
                  { name: "partitionIndex", type: "int32", versions: "0+" },
                  {
                    name: "startOffset",
                    type: "int64",
                    versions: "0+",
                    about: "-1 when the group has no state for the partition.",
                  },
                  { name: "leaderEpoch", type: "int32", versions: "0+" },
                  { name: "lag", type: "int64", versions: "1+", default: -1 },
                  { name: "errorCode", type: "int16", versions: "0+" },
                  {
                    name: "errorMessage",
                    type: "string",
                    versions: "0+",
                    nullableVersions: "0+",
                    default: null,
                  },
                ],
              },
            ],
          },
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "0+",
            nullableVersions: "0+",
            default: null,
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
