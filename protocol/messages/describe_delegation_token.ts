/**
 * DescribeDelegationToken (key 41, KIP-48): the tokens of some owners, or of
 * all (null owners). v0 went in Kafka 4.0 (KIP-896); v2 is the first flexible
 * version; v3 adds who asked for each token (KIP-373).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeDelegationToken",
  apiKey: 41,
  validVersions: "1-3",
  request: {
    name: "DescribeDelegationTokenRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "owners",
        type: "[]struct",
        structName: "DescribeDelegationTokenRequestOwner",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "null: every token",
        fields: [
          { name: "principalType", type: "string", versions: "0+" },
          { name: "principalName", type: "string", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "DescribeDelegationTokenResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "tokens",
        type: "[]struct",
        structName: "DescribeDelegationTokenResponseToken",
        versions: "0+",
        fields: [
          { name: "principalType", type: "string", versions: "0+" },
          { name: "principalName", type: "string", versions: "0+" },
          { name: "tokenRequesterPrincipalType", type: "string", versions: "3+" },
          { name: "tokenRequesterPrincipalName", type: "string", versions: "3+" },
          { name: "issueTimestamp", type: "int64", versions: "0+" },
          { name: "expiryTimestamp", type: "int64", versions: "0+" },
          { name: "maxTimestamp", type: "int64", versions: "0+" },
          { name: "tokenId", type: "string", versions: "0+" },
          { name: "hmac", type: "bytes", versions: "0+" },
          {
            name: "renewers",
            type: "[]struct",
            structName: "DescribeDelegationTokenResponseRenewer",
            versions: "0+",
            fields: [
              { name: "principalType", type: "string", versions: "0+" },
              { name: "principalName", type: "string", versions: "0+" },
            ],
          },
        ],
      },
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
    ],
  },
} satisfies ApiDef;
