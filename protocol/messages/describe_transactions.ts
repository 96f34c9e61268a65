/**
 * DescribeTransactions (key 65, KIP-664): the coordinator's state of some
 * transactional ids. Flexible from its only version, 0.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeTransactions",
  apiKey: 65,
  validVersions: "0",
  request: {
    name: "DescribeTransactionsRequest",
    flexibleVersions: "0+",
    fields: [{ name: "transactionalIds", type: "[]string", versions: "0+" }],
  },
  response: {
    name: "DescribeTransactionsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "transactionStates",
        type: "[]struct",
        structName: "DescribeTransactionsResponseState",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "transactionalId", type: "string", versions: "0+" },
          { name: "transactionState", type: "string", versions: "0+" },
          { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
          {
            name: "transactionStartTimeMs",
            type: "int64",
            versions: "0+",
            about: "-1 when no transaction is in progress.",
          },
          { name: "producerId", type: "int64", versions: "0+" },
          { name: "producerEpoch", type: "int16", versions: "0+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "DescribeTransactionsResponseTopic",
            versions: "0+",
            fields: [
              { name: "topic", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
