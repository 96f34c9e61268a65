/**
 * DeleteRecords (key 21, KIP-107): move each partition's log start offset
 * forward. v2 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteRecords",
  apiKey: 21,
  validVersions: "0-2",
  request: {
    name: "DeleteRecordsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DeleteRecordsRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DeleteRecordsRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              {
                name: "offset",
                type: "int64",
                versions: "0+",
                about: "Delete records before this offset; -1 means the high watermark",
              },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
    ],
  },
  response: {
    name: "DeleteRecordsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "DeleteRecordsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DeleteRecordsResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "lowWatermark", type: "int64", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
