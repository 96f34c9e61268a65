/**
 * SaslAuthenticate (key 36): one SASL token each way inside Kafka framing
 * (KIP-152). v1 adds the session lifetime for re-authentication (KIP-368);
 * v2 is flexible.
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
        about: "KIP-368: after this the connection may only re-authenticate (0: never expires)",
      },
    ],
  },
} satisfies ApiDef;
