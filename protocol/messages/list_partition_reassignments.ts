/**
 * ListPartitionReassignments (key 46, KIP-455): the reassignments in progress.
 * Flexible in its only version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ListPartitionReassignments",
  apiKey: 46,
  validVersions: "0",
  request: {
    name: "ListPartitionReassignmentsRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
      {
        name: "topics",
        type: "[]struct",
        structName: "ListPartitionReassignmentsRequestTopic",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Null: every partition.",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "partitionIndexes", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "ListPartitionReassignmentsResponse",
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
        name: "topics",
        type: "[]struct",
        structName: "ListPartitionReassignmentsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ListPartitionReassignmentsResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "replicas", type: "[]int32", versions: "0+" },
              { name: "addingReplicas", type: "[]int32", versions: "0+" },
              { name: "removingReplicas", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
