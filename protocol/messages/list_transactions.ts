/**
 * ListTransactions (key 66, KIP-664): the transactional ids a coordinator
 * knows, filtered by state and producer id; v1 adds a filter on how long a
 * transaction has run (KIP-994), v2 a regular expression on the id (KIP-1152).
 * Flexible from version 0.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ListTransactions",
  apiKey: 66,
  validVersions: "0-2",
  request: {
    name: "ListTransactionsRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "stateFilters", type: "[]string", versions: "0+", about: "Empty: any state." },
      { name: "producerIdFilters", type: "[]int64", versions: "0+", about: "Empty: any id." },
      {
        name: "durationFilter",
        type: "int64",
        versions: "1+",
        default: -1,
        about: "KIP-994: only transactions running longer than this many ms; -1: no filter.",
      },
      {
        name: "transactionalIdPattern",
        type: "string",
        versions: "2+",
        nullableVersions: "2+",
        default: null,
        about: "A Java regular expression the id must match; null or empty: no filter.",
      },
    ],
  },
  response: {
    name: "ListTransactionsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "unknownStateFilters", type: "[]string", versions: "0+" },
      {
        name: "transactionStates",
        type: "[]struct",
        structName: "ListTransactionsResponseState",
        versions: "0+",
        fields: [
          { name: "transactionalId", type: "string", versions: "0+" },
          { name: "producerId", type: "int64", versions: "0+" },
          { name: "transactionState", type: "string", versions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
