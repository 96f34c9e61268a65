/**
 * EndTxn (key 26): commits or aborts a producer's transaction. v3 is the first
 * flexible version; v4 adds the TRANSACTION_ABORTABLE error; v5 bumps the
 * producer epoch at every transaction end and returns the producer id and new
 * epoch (KIP-890 part 2).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "EndTxn",
  apiKey: 26,
  validVersions: "0-5",
  request: {
    name: "EndTxnRequest",
    flexibleVersions: "3+",
    fields: [
      { name: "transactionalId", type: "string", versions: "0+" },
      { name: "producerId", type: "int64", versions: "0+" },
      { name: "producerEpoch", type: "int16", versions: "0+" },
      { name: "committed", type: "bool", versions: "0+", about: "True: commit; false: abort." },
    ],
  },
  response: {
    name: "EndTxnResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "producerId",
        type: "int64",
        versions: "5+",
        default: -1,
        about: "KIP-890: the producer id to use for the next transaction.",
      },
      {
        name: "producerEpoch",
        type: "int16",
        versions: "5+",
        default: -1,
        about: "KIP-890: the bumped epoch.",
      },
    ],
  },
} satisfies ApiDef;
