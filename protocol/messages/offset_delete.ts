/** OffsetDelete (key 47): deletes committed offsets of partitions the group no longer consumes. */
import type { ApiDef } from "../schema.ts";

export default {
  name: "OffsetDelete",
  apiKey: 47,
  validVersions: "0",
  request: {
    name: "OffsetDeleteRequest",
    flexibleVersions: "none",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetDeleteRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetDeleteRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "OffsetDeleteResponse",
    flexibleVersions: "none",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+", about: "Group-level error." },
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "OffsetDeleteResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "OffsetDeleteResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              {
                name: "errorCode",
                type: "int16",
                versions: "0+",
                about: "E.g. GROUP_SUBSCRIBED_TO_TOPIC.",
              },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
