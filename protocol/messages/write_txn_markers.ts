/**
 * WriteTxnMarkers (key 27): writes transaction markers (commit or abort) into
 * partitions for a producer; Kafka's coordinator sends it to partition
 * leaders, and the admin client's abortTransaction (KIP-664) sends it to end
 * a hanging transaction. v1 is the first version Kafka 4 serves and the first
 * flexible one; v2 adds the transaction version (KIP-890).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "WriteTxnMarkers",
  apiKey: 27,
  validVersions: "1-2",
  request: {
    name: "WriteTxnMarkersRequest",
    flexibleVersions: "1+",
    fields: [
      {
        name: "markers",
        type: "[]struct",
        structName: "WriteTxnMarkersRequestMarker",
        versions: "0+",
        fields: [
          { name: "producerId", type: "int64", versions: "0+" },
          { name: "producerEpoch", type: "int16", versions: "0+" },
          {
            name: "transactionResult",
            type: "bool",
            versions: "0+",
            about: "True: commit; false: abort.",
          },
          {
            name: "topics",
            type: "[]struct",
            structName: "WriteTxnMarkersRequestTopic",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "partitionIndexes", type: "[]int32", versions: "0+" },
            ],
          },
          { name: "coordinatorEpoch", type: "int32", versions: "0+" },
          { name: "transactionVersion", type: "int8", versions: "2+", default: 0 },
        ],
      },
    ],
  },
  response: {
    name: "WriteTxnMarkersResponse",
    flexibleVersions: "1+",
    fields: [
      {
        name: "markers",
        type: "[]struct",
        structName: "WriteTxnMarkersResponseMarker",
        versions: "0+",
        fields: [
          { name: "producerId", type: "int64", versions: "0+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "WriteTxnMarkersResponseTopic",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              {
                name: "partitions",
                type: "[]struct",
                structName: "WriteTxnMarkersResponsePartition",
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
    ],
  },
} satisfies ApiDef;
