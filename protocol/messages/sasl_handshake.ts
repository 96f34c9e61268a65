/**
 * SaslHandshake (key 17): pick a SASL mechanism. With v0 the SASL tokens follow
 * as raw frames; with v1 they travel in SaslAuthenticate requests (KIP-152).
 * Never flexible (KAFKA-9577).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "SaslHandshake",
  apiKey: 17,
  validVersions: "0-1",
  request: {
    name: "SaslHandshakeRequest",
    flexibleVersions: "none",
    fields: [
      { name: "mechanism", type: "string", versions: "0+" },
    ],
  },
  response: {
    name: "SaslHandshakeResponse",
    flexibleVersions: "none",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "mechanisms",
        type: "[]string",
        versions: "0+",
        about: "The mechanisms this broker accepts",
      },
    ],
  },
} satisfies ApiDef;
