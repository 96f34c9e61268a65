/**
 * DeleteTopics (key 20). Version 0 was dropped in Kafka 4.0. v4 is flexible;
 * v5 adds per-topic error messages and quota throttling (KIP-599); v6 identifies
 * topics by name or topic ID (KIP-516), replacing the plain name list.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteTopics",
  apiKey: 20,
  validVersions: "1-6",
  request: {
    name: "DeleteTopicsRequest",
    flexibleVersions: "4+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DeleteTopicsRequestTopic",
        versions: "6+",
        about: "v6+: each topic by name or by ID (KIP-516)",
        fields: [
          {
            name: "name",
            type: "string",
            versions: "6+",
            nullableVersions: "6+",
            default: null,
            about: "Null when the topic is given by ID",
          },
          { name: "topicId", type: "uuid", versions: "6+" },
        ],
      },
      {
        name: "topicNames",
        type: "[]string",
        versions: "0-5",
        about: "Before v6: the names of the topics to delete",
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
    ],
  },
  response: {
    name: "DeleteTopicsResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "responses",
        type: "[]struct",
        structName: "DeleteTopicsResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+", nullableVersions: "6+" },
          { name: "topicId", type: "uuid", versions: "6+", about: "KIP-516" },
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: null,
            about: "KIP-599",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
