/**
 * AddPartitionsToTxn (key 24): adds partitions to a producer's ongoing
 * transaction. v3 is the first flexible version. v0-3 (sent by clients) carry
 * one transaction at top level; v4+ (broker to coordinator, KIP-890) batch
 * several transactions and may only verify. v5 only adds the
 * TRANSACTION_ABORTABLE error (KIP-890).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AddPartitionsToTxn",
  apiKey: 24,
  validVersions: "0-5",
  request: {
    name: "AddPartitionsToTxnRequest",
    flexibleVersions: "3+",
    fields: [
      {
        name: "transactions",
        type: "[]struct",
        structName: "AddPartitionsToTxnRequestTransaction",
        versions: "4+",
        about: "Batched transactions, v4+.",
        fields: [
          { name: "transactionalId", type: "string", versions: "4+" },
          { name: "producerId", type: "int64", versions: "4+" },
          { name: "producerEpoch", type: "int16", versions: "4+" },
          {
            name: "verifyOnly",
            type: "bool",
            versions: "4+",
            default: false,
            about: "Only check that the partitions are already in the transaction.",
          },
          {
            name: "topics",
            type: "[]struct",
            structName: "AddPartitionsToTxnRequestTransactionTopic",
            versions: "4+",
            fields: [
              { name: "name", type: "string", versions: "4+" },
              { name: "partitions", type: "[]int32", versions: "4+" },
            ],
          },
        ],
      },
      { name: "v3AndBelowTransactionalId", type: "string", versions: "0-3" },
      { name: "v3AndBelowProducerId", type: "int64", versions: "0-3" },
      { name: "v3AndBelowProducerEpoch", type: "int16", versions: "0-3" },
      {
        name: "v3AndBelowTopics",
        type: "[]struct",
        structName: "AddPartitionsToTxnRequestTopic",
        versions: "0-3",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "partitions", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "AddPartitionsToTxnResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "4+", about: "Top-level error, v4+." },
      {
        name: "resultsByTransaction",
        type: "[]struct",
        structName: "AddPartitionsToTxnResponseTransaction",
        versions: "4+",
        fields: [
          { name: "transactionalId", type: "string", versions: "4+" },
          {
            name: "topicResults",
            type: "[]struct",
            structName: "AddPartitionsToTxnResponseTransactionTopic",
            versions: "4+",
            fields: [
              { name: "name", type: "string", versions: "4+" },
              {
                name: "resultsByPartition",
                type: "[]struct",
                structName: "AddPartitionsToTxnResponseTransactionPartition",
                versions: "4+",
                fields: [
                  { name: "partitionIndex", type: "int32", versions: "4+" },
                  { name: "partitionErrorCode", type: "int16", versions: "4+" },
                ],
              },
            ],
          },
        ],
      },
      {
        name: "resultsByTopicV3AndBelow",
        type: "[]struct",
        structName: "AddPartitionsToTxnResponseTopic",
        versions: "0-3",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "resultsByPartition",
            type: "[]struct",
            structName: "AddPartitionsToTxnResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "partitionErrorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
