/**
 * DescribeProducers (key 61, KIP-664): the producers a partition keeps state
 * for, with their open transaction's first offset. Flexible from version 0.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeProducers",
  apiKey: 61,
  validVersions: "0",
  request: {
    name: "DescribeProducersRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeProducersRequestTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "partitionIndexes", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "DescribeProducersResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeProducersResponseTopic",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "DescribeProducersResponsePartition",
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
                name: "activeProducers",
                type: "[]struct",
                structName: "DescribeProducersResponseProducer",
                versions: "0+",
                fields: [
                  { name: "producerId", type: "int64", versions: "0+" },
                  { name: "producerEpoch", type: "int32", versions: "0+" },
                  { name: "lastSequence", type: "int32", versions: "0+", default: -1 },
                  { name: "lastTimestamp", type: "int64", versions: "0+", default: -1 },
                  { name: "coordinatorEpoch", type: "int32", versions: "0+" },
                  { name: "currentTxnStartOffset", type: "int64", versions: "0+", default: -1 },
                ],
              },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
