/** The authentication APIs (KIP-43, KIP-152, KIP-554): SASL and SCRAM credentials. */

import type { Handler } from "./types.ts";
import { saslHandshake } from "./sasl_handshake.ts";
import { saslAuthenticate } from "./sasl_authenticate.ts";
import {
  alterUserScramCredentials,
  describeUserScramCredentials,
} from "./user_scram_credentials.ts";

export const SASL_HANDLERS: Handler[] = [
  saslHandshake,
  saslAuthenticate,
  describeUserScramCredentials,
  alterUserScramCredentials,
];
