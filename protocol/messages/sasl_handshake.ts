/**
 * SaslHandshake (key 17): the client names the SASL mechanism it will use
 * (KIP-43). v0 is followed by raw length-prefixed SASL tokens; v1 (KIP-152)
 * by SaslAuthenticate requests. The answer lists the enabled mechanisms.
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
      { name: "mechanisms", type: "[]string", versions: "0+", about: "sasl.enabled.mechanisms" },
    ],
  },
} satisfies ApiDef;
