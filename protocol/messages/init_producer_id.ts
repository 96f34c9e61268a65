/**
 * InitProducerId (key 22): hands out a producer ID and epoch for idempotent or
 * transactional producers. Version 2 is the first flexible one, 3 lets a
 * producer resume its ID (KIP-360), 4 adds PRODUCER_FENCED (KIP-588) and 5
 * TRANSACTION_ABORTABLE (KIP-890).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "InitProducerId",
  apiKey: 22,
  validVersions: "0-5",
  request: {
    name: "InitProducerIdRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "transactionalId",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        about: "Null for an idempotent, non-transactional producer.",
      },
      { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
      {
        name: "producerId",
        type: "int64",
        versions: "3+",
        default: -1,
        about: "Existing ID the producer wants to keep (KIP-360).",
      },
      { name: "producerEpoch", type: "int16", versions: "3+", default: -1 },
    ],
  },
  response: {
    name: "InitProducerIdResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+", default: -1 },
      { name: "producerEpoch", type: "int16", versions: "0+" },
    ],
  },
} satisfies ApiDef;
