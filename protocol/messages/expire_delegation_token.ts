/**
 * ExpireDelegationToken (key 40, KIP-48): sets a token's expiry (a negative
 * period ends it at once), named by its HMAC. v0 went in Kafka 4.0 (KIP-896);
 * v2 is the first flexible version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ExpireDelegationToken",
  apiKey: 40,
  validVersions: "1-2",
  request: {
    name: "ExpireDelegationTokenRequest",
    flexibleVersions: "2+",
    fields: [
      { name: "hmac", type: "bytes", versions: "0+" },
      { name: "expiryTimePeriodMs", type: "int64", versions: "0+" },
    ],
  },
  response: {
    name: "ExpireDelegationTokenResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "expiryTimestampMs", type: "int64", versions: "0+" },
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
    ],
  },
} satisfies ApiDef;
