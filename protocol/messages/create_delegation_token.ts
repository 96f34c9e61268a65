/**
 * CreateDelegationToken (key 38, KIP-48): issues a token a client can later
 * authenticate with over SASL/SCRAM. v0 went in Kafka 4.0 (KIP-896); v2 is the
 * first flexible version; v3 lets a request name the token's owner and the
 * answer name who asked for it (KIP-373).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "CreateDelegationToken",
  apiKey: 38,
  validVersions: "1-3",
  request: {
    name: "CreateDelegationTokenRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "ownerPrincipalType",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: null,
        about: "null: the principal that asks (KIP-373)",
      },
      {
        name: "ownerPrincipalName",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: null,
      },
      {
        name: "renewers",
        type: "[]struct",
        structName: "CreateDelegationTokenRequestRenewer",
        versions: "0+",
        fields: [
          { name: "principalType", type: "string", versions: "0+" },
          { name: "principalName", type: "string", versions: "0+" },
        ],
      },
      {
        name: "maxLifetimeMs",
        type: "int64",
        versions: "0+",
        about: "-1: the broker's delegation.token.max.lifetime.ms",
      },
    ],
  },
  response: {
    name: "CreateDelegationTokenResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "principalType", type: "string", versions: "0+" },
      { name: "principalName", type: "string", versions: "0+" },
      { name: "tokenRequesterPrincipalType", type: "string", versions: "3+" },
      { name: "tokenRequesterPrincipalName", type: "string", versions: "3+" },
      { name: "issueTimestampMs", type: "int64", versions: "0+" },
      { name: "expiryTimestampMs", type: "int64", versions: "0+" },
      { name: "maxTimestampMs", type: "int64", versions: "0+" },
      { name: "tokenId", type: "string", versions: "0+" },
      { name: "hmac", type: "bytes", versions: "0+" },
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
    ],
  },
} satisfies ApiDef;
