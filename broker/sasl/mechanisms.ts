/**
 * The mechanisms this broker serves out of sasl.enabled.mechanisms: PLAIN and
 * both SCRAMs. OAUTHBEARER (KIP-255) is not served: a handshake naming it is
 * UNSUPPORTED_SASL_MECHANISM rather than accepting unverified tokens.
 */

import type { MetaStore } from "../../stores/types.ts";
import type { SecurityConfig } from "../security_config.ts";
import type { SaslServer } from "./mechanism.ts";
import { PlainServer } from "./plain.ts";
import { ScramServer } from "./scram.ts";

const SERVED = new Set(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);

export function enabledMechanisms(security: SecurityConfig): string[] {
  return security.saslMechanisms.filter((m) => SERVED.has(m));
}

export function newSaslServer(mechanism: string, meta: MetaStore): SaslServer {
  if (mechanism === "PLAIN") return new PlainServer(meta);
  if (mechanism === "SCRAM-SHA-256" || mechanism === "SCRAM-SHA-512") {
    return new ScramServer(mechanism, meta);
  }
  throw new Error(`SASL mechanism ${mechanism} is not served`);
}
