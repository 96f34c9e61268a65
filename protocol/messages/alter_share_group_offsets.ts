/**
 * AlterShareGroupOffsets (key 91): sets the share-partition start offsets
 * of an empty share group (KIP-932; kafka-share-groups --reset-offsets).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterShareGroupOffsets",
  apiKey: 91,
  validVersions: "0",
  request: {
    name: "AlterShareGroupOffsetsRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "AlterShareGroupOffsetsRequestTopic",
        versions: "0+",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "AlterShareGroupOffsetsRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "startOffset", type: "int64", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "AlterShareGroupOffsetsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "errorMessage",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
      },
      {
        name: "responses",
        type: "[]struct",
        structName: "AlterShareGroupOffsetsResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          { name: "topicId", type: "uuid", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "AlterShareGroupOffsetsResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
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
    ],
  },
} satisfies ApiDef;
