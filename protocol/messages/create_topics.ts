/**
 * CreateTopics (key 19): create topics with a partition count and replication
 * factor or an explicit replica assignment. Versions 0-1 were dropped in Kafka 4.0.
 * v4 lets numPartitions / replicationFactor be -1 for broker defaults (KIP-464);
 * v5 is flexible and echoes the resulting topic configs (KIP-525); v6 may return
 * THROTTLING_QUOTA_EXCEEDED (KIP-599); v7 returns the topic ID (KIP-516).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "CreateTopics",
  apiKey: 19,
  validVersions: "2-7",
  request: {
    name: "CreateTopicsRequest",
    flexibleVersions: "5+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "CreateTopicsRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "numPartitions",
            type: "int32",
            versions: "0+",
            about: "-1 with an explicit assignment, or (v4+) to use the broker default",
          },
          {
            name: "replicationFactor",
            type: "int16",
            versions: "0+",
            about: "-1 with an explicit assignment, or (v4+) to use the broker default",
          },
          {
            name: "assignments",
            type: "[]struct",
            structName: "CreateTopicsRequestAssignment",
            versions: "0+",
            about: "Explicit replica placement; empty for automatic placement",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "brokerIds", type: "[]int32", versions: "0+" },
            ],
          },
          {
            name: "configs",
            type: "[]struct",
            structName: "CreateTopicsRequestConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
      {
        name: "validateOnly",
        type: "bool",
        versions: "1+",
        default: false,
        about: "Check the request without creating anything",
      },
    ],
  },
  response: {
    name: "CreateTopicsResponse",
    flexibleVersions: "5+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "CreateTopicsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "topicId", type: "uuid", versions: "7+", about: "KIP-516" },
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "1+", nullableVersions: "0+" },
          {
            name: "topicConfigErrorCode",
            type: "int16",
            versions: "5+",
            taggedVersions: "5+",
            tag: 0,
            about: "Set when the configs could not be returned (KIP-525)",
          },
          { name: "numPartitions", type: "int32", versions: "5+", default: -1 },
          { name: "replicationFactor", type: "int16", versions: "5+", default: -1 },
          {
            name: "configs",
            type: "[]struct",
            structName: "CreateTopicsResponseConfig",
            versions: "5+",
            nullableVersions: "5+",
            about: "The topic's resulting configs (KIP-525)",
            fields: [
              { name: "name", type: "string", versions: "5+" },
              { name: "value", type: "string", versions: "5+", nullableVersions: "5+" },
              { name: "readOnly", type: "bool", versions: "5+" },
              { name: "configSource", type: "int8", versions: "5+", default: -1 },
              { name: "isSensitive", type: "bool", versions: "5+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
