/**
 * ShareAcknowledge (key 79): acknowledges records a share group member was
 * delivered by ShareFetch (KIP-932), without fetching more, in the member's
 * share session. Version 2 adds Renew acknowledgements and answers the lock
 * timeout (KIP-1222).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ShareAcknowledge",
  apiKey: 79,
  validVersions: "1-2",
  request: {
    name: "ShareAcknowledgeRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      { name: "memberId", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "shareSessionEpoch", type: "int32", versions: "0+" },
      { name: "isRenewAck", type: "bool", versions: "2+", default: false },
      {
        name: "topics",
        type: "[]struct",
        structName: "ShareAcknowledgeRequestTopic",
        versions: "0+",
        fields: [
          { name: "topicId", type: "uuid", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ShareAcknowledgeRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              {
                name: "acknowledgementBatches",
                type: "[]struct",
                structName: "ShareAcknowledgeRequestAcknowledgementBatch",
                versions: "0+",
                fields: [
                  { name: "firstOffset", type: "int64", versions: "0+" },
                  { name: "lastOffset", type: "int64", versions: "0+" },
                  { name: "acknowledgeTypes", type: "[]int8", versions: "0+" },
                ],
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "ShareAcknowledgeResponse",
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
      { name: "acquisitionLockTimeoutMs", type: "int32", versions: "2+" },
      {
        name: "responses",
        type: "[]struct",
        structName: "ShareAcknowledgeResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicId", type: "uuid", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "ShareAcknowledgeResponsePartition",
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
              {
                name: "currentLeader",
                type: "struct",
                structName: "ShareAcknowledgeResponseLeaderIdAndEpoch",
                versions: "0+",
                fields: [
                  { name: "leaderId", type: "int32", versions: "0+" },
                  { name: "leaderEpoch", type: "int32", versions: "0+" },
                ],
              },
            ],
          },
        ],
      },
      {
        name: "nodeEndpoints",
        type: "[]struct",
        structName: "ShareAcknowledgeResponseNodeEndpoint",
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
