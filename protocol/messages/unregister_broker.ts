/**
 * UnregisterBroker (key 64, KIP-500 / KIP-631): removes a broker's
 * registration from the cluster metadata, for a broker that is gone for good.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "UnregisterBroker",
  apiKey: 64,
  validVersions: "0",
  request: {
    name: "UnregisterBrokerRequest",
    flexibleVersions: "0+",
    fields: [{ name: "brokerId", type: "int32", versions: "0+" }],
  },
  response: {
    name: "UnregisterBrokerResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    ],
  },
} satisfies ApiDef;
