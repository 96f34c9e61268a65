/**
 * DeleteShareGroupOffsets (key 92): removes an empty share group's state for
 * whole topics (KIP-932; kafka-share-groups --delete-offsets).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteShareGroupOffsets",
  apiKey: 92,
  validVersions: "0",
  request: {
    name: "DeleteShareGroupOffsetsRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "DeleteShareGroupOffsetsRequestTopic",
        versions: "0+",
        fields: [{ name: "topicName", type: "string", versions: "0+" }],
      },
    ],
  },
  response: {
    name: "DeleteShareGroupOffsetsResponse",
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
        structName: "DeleteShareGroupOffsetsResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          { name: "topicId", type: "uuid", versions: "0+" },
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
