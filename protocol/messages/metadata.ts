/**
 * Metadata (key 3): brokers, topics and partition leaders. Version 9 is the
 * first flexible one, 10 adds topic IDs (usable from 12, KIP-516), 11 drops
 * cluster authorized operations (KIP-700) and 13 adds a top-level error code
 * (KIP-1102).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "Metadata",
  apiKey: 3,
  validVersions: "0-13",
  request: {
    name: "MetadataRequest",
    flexibleVersions: "9+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "MetadataRequestTopic",
        versions: "0+",
        nullableVersions: "1+",
        about: "v0: empty means all topics. v1+: null means all topics, empty means none.",
        fields: [
          { name: "topicId", type: "uuid", versions: "10+", about: "Only honoured from v12." },
          { name: "name", type: "string", versions: "0+", nullableVersions: "10+" },
        ],
      },
      {
        name: "allowAutoTopicCreation",
        type: "bool",
        versions: "4+",
        default: true,
      },
      { name: "includeClusterAuthorizedOperations", type: "bool", versions: "8-10" },
      { name: "includeTopicAuthorizedOperations", type: "bool", versions: "8+" },
    ],
  },
  response: {
    name: "MetadataResponse",
    flexibleVersions: "9+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "3+" },
      {
        name: "brokers",
        type: "[]struct",
        structName: "MetadataResponseBroker",
        versions: "0+",
        fields: [
          { name: "nodeId", type: "int32", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "port", type: "int32", versions: "0+" },
          {
            name: "rack",
            type: "string",
            versions: "1+",
            nullableVersions: "1+",
            default: null,
          },
        ],
      },
      {
        name: "clusterId",
        type: "string",
        versions: "2+",
        nullableVersions: "2+",
        default: null,
      },
      { name: "controllerId", type: "int32", versions: "1+", default: -1 },
      {
        name: "topics",
        type: "[]struct",
        structName: "MetadataResponseTopic",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "name",
            type: "string",
            versions: "0+",
            nullableVersions: "12+",
            about: "Null only for an unknown topic asked for by ID.",
          },
          {
            name: "topicId",
            type: "uuid",
            versions: "10+",
            about: "All zeros for an unknown topic asked for by name.",
          },
          { name: "isInternal", type: "bool", versions: "1+", default: false },
          {
            name: "partitions",
            type: "[]struct",
            structName: "MetadataResponsePartition",
            versions: "0+",
            fields: [
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "leaderId", type: "int32", versions: "0+" },
              { name: "leaderEpoch", type: "int32", versions: "7+", default: -1 },
              { name: "replicaNodes", type: "[]int32", versions: "0+" },
              { name: "isrNodes", type: "[]int32", versions: "0+" },
              { name: "offlineReplicas", type: "[]int32", versions: "5+" },
            ],
          },
          {
            name: "topicAuthorizedOperations",
            type: "int32",
            versions: "8+",
            default: -2147483648,
            about: "Bit field of allowed ACL operations; INT32_MIN when not requested.",
          },
        ],
      },
      {
        name: "clusterAuthorizedOperations",
        type: "int32",
        versions: "8-10",
        default: -2147483648,
      },
      { name: "errorCode", type: "int16", versions: "13+", about: "KIP-1102" },
    ],
  },
} satisfies ApiDef;
