/**
 * The mechanisms this broker serves out of sasl.enabled.mechanisms: PLAIN,
 * both SCRAMs, and OAUTHBEARER (KIP-255, KIP-768) only when a JWKS is
 * configured: without one a handshake naming it is UNSUPPORTED_SASL_MECHANISM
 * rather than accepting unverified tokens.
 */

import type { MetaStore } from "../../stores/types.ts";
import type { SecurityConfig } from "../security_config.ts";
import type { SaslServer } from "./mechanism.ts";
import { JwksKeys, OAuthBearerServer } from "./oauthbearer.ts";
import { PlainServer } from "./plain.ts";
import { ScramServer } from "./scram.ts";

const ALWAYS = new Set(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);

export function enabledMechanisms(security: SecurityConfig): string[] {
  return security.saslMechanisms.filter((m) =>
    ALWAYS.has(m) || (m === "OAUTHBEARER" && security.oauthbearer.jwksUrl !== null)
  );
}

/** One JWKS per broker configuration, shared by its connections (keys are cached and refreshed). */
const jwks = new WeakMap<SecurityConfig, JwksKeys>();

export function newSaslServer(
  mechanism: string,
  meta: MetaStore,
  security: SecurityConfig,
): SaslServer {
  if (mechanism === "PLAIN") return new PlainServer(meta);
  if (mechanism === "SCRAM-SHA-256" || mechanism === "SCRAM-SHA-512") {
    return new ScramServer(mechanism, meta);
  }
  if (mechanism === "OAUTHBEARER" && security.oauthbearer.jwksUrl !== null) {
    let keys = jwks.get(security);
    if (!keys) jwks.set(security, keys = new JwksKeys(security.oauthbearer.jwksUrl));
    return new OAuthBearerServer(keys, security.oauthbearer);
  }
  throw new Error(`SASL mechanism ${mechanism} is not served`);
}
