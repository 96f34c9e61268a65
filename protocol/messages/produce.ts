/**
 * Produce (key 0): appends record batches to partitions. Versions 0-2 only
 * have to decode far enough for us to answer UNSUPPORTED_VERSION; version 9 is
 * the first flexible one, 10 adds leader hints (KIP-951), 11 and 12 only add
 * error codes / transaction semantics (KIP-890), and 13 names topics by id
 * instead of by name (KIP-516).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "Produce",
  apiKey: 0,
  validVersions: "0-13",
  request: {
    name: "ProduceRequest",
    flexibleVersions: "9+",
    fields: [
      {
        name: "transactionalId",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: null,
        about: "Null unless the producer is transactional.",
      },
      {
        name: "acks",
        type: "int16",
        versions: "0+",
        about: "0: no response at all, 1: leader only, -1: all in-sync replicas.",
      },
      { name: "timeoutMs", type: "int32", versions: "0+" },
      {
        name: "topicData",
        type: "[]struct",
        structName: "ProduceRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-12" },
          { name: "topicId", type: "uuid", versions: "13+", about: "KIP-516" },
          {
            name: "partitionData",
            type: "[]struct",
            structName: "ProduceRequestPartition",
            versions: "0+",
            fields: [
              { name: "index", type: "int32", versions: "0+" },
              {
                name: "records",
                type: "records",
                versions: "0+",
                nullableVersions: "0+",
                about: "Message sets (v0-2) or record batches (v3+).",
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "ProduceResponse",
    flexibleVersions: "9+",
    fields: [
      {
        name: "responses",
        type: "[]struct",
        structName: "ProduceResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-12" },
          { name: "topicId", type: "uuid", versions: "13+", about: "KIP-516" },
          {
            name: "partitionResponses",
            type: "[]struct",
            structName: "ProduceResponsePartition",
            versions: "0+",
            fields: [
              { name: "index", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "baseOffset", type: "int64", versions: "0+" },
              {
                name: "logAppendTimeMs",
                type: "int64",
                versions: "2+",
                default: -1,
                about: "Broker append time when the topic uses LogAppendTime, else -1.",
              },
              { name: "logStartOffset", type: "int64", versions: "5+", default: -1 },
              {
                name: "recordErrors",
                type: "[]struct",
                structName: "ProduceResponseBatchIndexAndErrorMessage",
                versions: "8+",
                about: "Records that made the batch fail (KIP-467).",
                fields: [
                  { name: "batchIndex", type: "int32", versions: "8+" },
                  {
                    name: "batchIndexErrorMessage",
                    type: "string",
                    versions: "8+",
                    nullableVersions: "8+",
                    default: null,
                  },
                ],
              },
              {
                name: "errorMessage",
                type: "string",
                versions: "8+",
                nullableVersions: "8+",
                default: null,
                about: "KIP-467",
              },
              {
                name: "currentLeader",
                type: "struct",
                structName: "ProduceResponseLeaderIdAndEpoch",
                versions: "10+",
                taggedVersions: "10+",
                tag: 0,
                about: "New leader hint on NOT_LEADER_OR_FOLLOWER (KIP-951).",
                fields: [
                  { name: "leaderId", type: "int32", versions: "10+", default: -1 },
                  { name: "leaderEpoch", type: "int32", versions: "10+", default: -1 },
                ],
              },
            ],
          },
        ],
      },
      { name: "throttleTimeMs", type: "int32", versions: "1+", default: 0 },
      {
        name: "nodeEndpoints",
        type: "[]struct",
        structName: "ProduceResponseNodeEndpoint",
        versions: "10+",
        taggedVersions: "10+",
        tag: 0,
        about: "Endpoints of the leaders named in currentLeader (KIP-951).",
        fields: [
          { name: "nodeId", type: "int32", versions: "10+" },
          { name: "host", type: "string", versions: "10+" },
          { name: "port", type: "int32", versions: "10+" },
          {
            name: "rack",
            type: "string",
            versions: "10+",
            nullableVersions: "10+",
            default: null,
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
