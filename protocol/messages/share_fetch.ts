/**
 * ShareFetch (key 78): fetches records for a share group (KIP-932). The
 * broker acquires records for the member (a time-limited lock) and answers
 * the record batches with the acquired offset ranges and their delivery
 * counts; acknowledgements of earlier deliveries ride along. Requests belong
 * to a share session (member id + share session epoch). Version 1 is the
 * first final version; version 2 adds the acquire mode (KIP-1206) and Renew
 * acknowledgements (KIP-1222).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ShareFetch",
  apiKey: 78,
  validVersions: "1-2",
  request: {
    name: "ShareFetchRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      { name: "memberId", type: "string", versions: "0+", nullableVersions: "0+" },
      {
        name: "shareSessionEpoch",
        type: "int32",
        versions: "0+",
        about: "0: open a session; -1: close it; else the next epoch in sequence.",
      },
      { name: "maxWaitMs", type: "int32", versions: "0+" },
      { name: "minBytes", type: "int32", versions: "0+" },
      { name: "maxBytes", type: "int32", versions: "0+", default: 0x7fffffff },
      { name: "maxRecords", type: "int32", versions: "1+" },
      { name: "batchSize", type: "int32", versions: "1+" },
      {
        name: "shareAcquireMode",
        type: "int8",
        versions: "2+",
        default: 0,
        about: "0: batch-optimized; 1: record-limit (KIP-1206).",
      },
      { name: "isRenewAck", type: "bool", versions: "2+", default: false },
      {
        name: "topics",
        type: "[]struct",
        structName: "ShareFetchRequestTopic",
        versions: "0+",
        fields: [
          { name: "topicId", type: "uuid", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ShareFetchRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "partitionMaxBytes", type: "int32", versions: "0" },
              {
                name: "acknowledgementBatches",
                type: "[]struct",
                structName: "ShareFetchRequestAcknowledgementBatch",
                versions: "0+",
                fields: [
                  { name: "firstOffset", type: "int64", versions: "0+" },
                  { name: "lastOffset", type: "int64", versions: "0+" },
                  {
                    name: "acknowledgeTypes",
                    type: "[]int8",
                    versions: "0+",
                    about: "0: gap; 1: accept; 2: release; 3: reject; 4: renew (KIP-1222).",
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        name: "forgottenTopicsData",
        type: "[]struct",
        structName: "ShareFetchRequestForgottenTopic",
        versions: "0+",
        fields: [
          { name: "topicId", type: "uuid", versions: "0+" },
          { name: "partitions", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "ShareFetchResponse",
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
      { name: "acquisitionLockTimeoutMs", type: "int32", versions: "1+" },
      {
        name: "responses",
        type: "[]struct",
        structName: "ShareFetchResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicId", type: "uuid", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ShareFetchResponsePartition",
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
              { name: "acknowledgeErrorCode", type: "int16", versions: "0+" },
              {
                name: "acknowledgeErrorMessage",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
              },
              {
                name: "currentLeader",
                type: "struct",
                structName: "ShareFetchResponseLeaderIdAndEpoch",
                versions: "0+",
                fields: [
                  { name: "leaderId", type: "int32", versions: "0+" },
                  { name: "leaderEpoch", type: "int32", versions: "0+" },
                ],
              },
              { name: "records", type: "records", versions: "0+", nullableVersions: "0" },
              {
                name: "acquiredRecords",
                type: "[]struct",
                structName: "ShareFetchResponseAcquiredRecords",
                versions: "0+",
                fields: [
                  { name: "firstOffset", type: "int64", versions: "0+" },
                  { name: "lastOffset", type: "int64", versions: "0+" },
                  { name: "deliveryCount", type: "int16", versions: "0+" },
                ],
              },
            ],
          },
        ],
      },
      {
        name: "nodeEndpoints",
        type: "[]struct",
        structName: "ShareFetchResponseNodeEndpoint",
        versions: "0+",
        fields: [
          { name: "nodeId", type: "int32", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "port", type: "int32", versions: "0+" },
          { name: "rack", type: "string", versions: "0+", nullableVersions: "0+", default: null },
        ],
      },
    ],
  },
} satisfies ApiDef;
