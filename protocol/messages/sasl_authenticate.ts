/**
 * SaslAuthenticate (key 36, KIP-152): carries SASL tokens after a v1
 * SaslHandshake. v1 adds the session lifetime (KIP-368); v2 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "SaslAuthenticate",
  apiKey: 36,
  validVersions: "0-2",
  request: {
    name: "SaslAuthenticateRequest",
    flexibleVersions: "2+",
    fields: [
      { name: "authBytes", type: "bytes", versions: "0+" },
    ],
  },
  response: {
    name: "SaslAuthenticateResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "authBytes", type: "bytes", versions: "0+" },
      {
        name: "sessionLifetimeMs",
        type: "int64",
        versions: "1+",
        default: 0,
        about: "0 = no re-authentication deadline (KIP-368)",
      },
    ],
  },
} satisfies ApiDef;
