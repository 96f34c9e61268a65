/**
 * CreatePartitions (key 37): raise a topic's partition count. v2 is flexible;
 * v3 may return THROTTLING_QUOTA_EXCEEDED (KIP-599).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "CreatePartitions",
  apiKey: 37,
  validVersions: "0-3",
  request: {
    name: "CreatePartitionsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "CreatePartitionsRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "count", type: "int32", versions: "0+", about: "The new total partition count" },
          {
            name: "assignments",
            type: "[]struct",
            structName: "CreatePartitionsRequestAssignment",
            versions: "0+",
            nullableVersions: "0+",
            about: "Replicas for each new partition, or null for automatic placement",
            fields: [
              { name: "brokerIds", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "CreatePartitionsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "CreatePartitionsResponseResult",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
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
