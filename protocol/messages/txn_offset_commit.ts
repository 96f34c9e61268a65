/**
 * TxnOffsetCommit (key 28): commits offsets inside a producer's transaction;
 * they become visible when the transaction commits. v2 adds leader epochs; v3
 * is the first flexible version and adds group membership (KIP-447); v4 adds
 * the TRANSACTION_ABORTABLE error; in v5 (transactions v2, KIP-890) the request
 * also implies AddOffsetsToTxn; v6 names topics by id (KIP-516).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "TxnOffsetCommit",
  apiKey: 28,
  validVersions: "0-6",
  request: {
    name: "TxnOffsetCommitRequest",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "groupId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      {
        name: "generationIdOrMemberEpoch",
        type: "int32",
        versions: "3+",
        default: -1,
        about: "Consumer's generation (or member epoch), -1 if unknown.",
      },
      { name: "memberId", type: "string", versions: "3+", default: "" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: null,
        about: "KIP-345 static membership.",
      },
      {
        name: "topics",
        type: "[]struct",
        structName: "TxnOffsetCommitRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-5" },
          { name: "topicId", type: "uuid", versions: "6+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "TxnOffsetCommitRequestPartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "committedOffset", type: "int64", versions: "0+" },
              { name: "committedLeaderEpoch", type: "int32", versions: "2+", default: -1 },
              {
                name: "committedMetadata",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
              },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "TxnOffsetCommitResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "TxnOffsetCommitResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0-5" },
          { name: "topicId", type: "uuid", versions: "6+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "TxnOffsetCommitResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
