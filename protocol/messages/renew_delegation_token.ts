/**
 * RenewDelegationToken (key 39, KIP-48): moves a token's expiry on, named by
 * its HMAC. v0 went in Kafka 4.0 (KIP-896); v2 is the first flexible version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "RenewDelegationToken",
  apiKey: 39,
  validVersions: "1-2",
  request: {
    name: "RenewDelegationTokenRequest",
    flexibleVersions: "2+",
    fields: [
      { name: "hmac", type: "bytes", versions: "0+" },
      { name: "renewPeriodMs", type: "int64", versions: "0+" },
    ],
  },
  response: {
    name: "RenewDelegationTokenResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "expiryTimestampMs", type: "int64", versions: "0+" },
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
    ],
  },
} satisfies ApiDef;
