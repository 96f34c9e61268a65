/**
 * AlterPartitionReassignments (key 45, KIP-455): starts or cancels moving
 * partitions' replicas. Flexible in every version; 1 adds whether the
 * replication factor may change (KIP-860).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterPartitionReassignments",
  apiKey: 45,
  validVersions: "0-1",
  request: {
    name: "AlterPartitionReassignmentsRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
      {
        name: "allowReplicationFactorChange",
        type: "bool",
        versions: "1+",
        default: true,
        about: "KIP-860",
      },
      {
        name: "topics",
        type: "[]struct",
        structName: "AlterPartitionReassignmentsRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "AlterPartitionReassignmentsRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              {
                name: "replicas",
                type: "[]int32",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
                about: "The target replicas; null cancels a reassignment in progress.",
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "AlterPartitionReassignmentsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "allowReplicationFactorChange",
        type: "bool",
        versions: "1+",
        default: true,
        about: "Echoes the request's (KIP-860).",
      },
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
        structName: "AlterPartitionReassignmentsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "AlterPartitionReassignmentsResponsePartition",
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
