/**
 * AddOffsetsToTxn (key 25): adds a group's offsets partition to a producer's
 * transaction, ahead of TxnOffsetCommit. v3 is the first flexible version; v4
 * only adds the TRANSACTION_ABORTABLE error (KIP-890).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AddOffsetsToTxn",
  apiKey: 25,
  validVersions: "0-4",
  request: {
    name: "AddOffsetsToTxnRequest",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      { name: "groupId", type: "string", versions: "0+" },
    ],
  },
  response: {
    name: "AddOffsetsToTxnResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
    ],
  },
} satisfies ApiDef;
