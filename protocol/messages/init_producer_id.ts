/**
 * InitProducerId (key 22): hands out a producer ID and epoch for idempotent or
 * transactional producers. Version 2 is the first flexible one, 3 lets a
 * producer resume its ID (KIP-360), 4 adds PRODUCER_FENCED (KIP-588) and 5
 * TRANSACTION_ABORTABLE (KIP-890); 6 (unstable in Kafka 4.4) adds two-phase commit
 * (KIP-939).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "InitProducerId",
  apiKey: 22,
  validVersions: "0-6",
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
      { name: "enable2Pc", type: "bool", versions: "6+", default: false, about: "KIP-939." },
      {
        name: "keepPreparedTxn",
        type: "bool",
        versions: "6+",
        default: false,
        about: "KIP-939: keep the prepared transaction instead of aborting it.",
      },
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
      { name: "ongoingTxnProducerId", type: "int64", versions: "6+", default: -1 },
      { name: "ongoingTxnProducerEpoch", type: "int16", versions: "6+", default: -1 },
    ],
  },
} satisfies ApiDef;
