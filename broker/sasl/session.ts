/**
 * A SASL connection's authentication state (Kafka's SaslServerAuthenticator,
 * KIP-43, KIP-152, KIP-368). Before authentication only ApiVersions, then
 * SaslHandshake, then SaslAuthenticate are served, one at a time and in that
 * order; any other request closes the connection. Once authenticated every
 * request is served concurrently. With connections.max.reauth.ms the session
 * expires: the client re-authenticates on the same connection (SaslHandshake
 * and SaslAuthenticate again, same principal and mechanism) while its other
 * requests keep being served, and an expired session sending anything else is
 * closed.
 */

import type { SaslServer } from "./mechanism.ts";

export const SASL_HANDSHAKE_KEY = 17;
export const SASL_AUTHENTICATE_KEY = 36;
const API_VERSIONS_KEY = 18;

/** Kafka's sasl.server.max.receive.size: the largest frame before authentication. */
export const SASL_MAX_RECEIVE_SIZE = 524288;

/** Where the exchange stands: which request may come next. */
export type SaslPhase = "versions-or-handshake" | "handshake" | "authenticate" | "complete";

const EXPECTED: Record<SaslPhase, string> = {
  "versions-or-handshake": "ApiVersions or SaslHandshake",
  handshake: "SaslHandshake",
  authenticate: "SaslAuthenticate",
  complete: "any request",
};

/** What the connection loop does with a request. */
export type Admission = "serial" | "concurrent" | string;

export class SaslSession {
  phase: SaslPhase = "versions-or-handshake";
  /** The mechanism's exchange in progress (after SaslHandshake). */
  server: SaslServer | null = null;
  /** The authenticated session's mechanism and user, kept across re-authentication. */
  mechanism: string | null = null;
  user: string | null = null;
  /** When the session ends (KIP-368); Infinity when it never does. */
  expiresAtMs = Infinity;
  /**
   * After SaslHandshake v0 (KIP-43) the tokens come raw, length-prefixed
   * without Kafka's headers, until the exchange completes.
   */
  raw = false;
  /** Set by a failed exchange: the connection closes once its answer is written. */
  closeAfterResponse = false;

  constructor(
    readonly reauthMs: number,
    readonly apiVersionsMax: number,
    /** Kafka's name of an API key, for the line that says why a connection closed. */
    private readonly apiName: (apiKey: number) => string = (k) => `API key ${k}`,
  ) {}

  get authenticated(): boolean {
    return this.user !== null;
  }

  /**
   * Whether a request may be served now: "serial" (wait for its answer before
   * reading on), "concurrent", or why the connection closes.
   */
  admit(apiKey: number, version: number, nowMs: number): Admission {
    const sasl = apiKey === SASL_HANDSHAKE_KEY || apiKey === SASL_AUTHENTICATE_KEY;
    if (this.authenticated) {
      if (sasl) return "serial";
      if (nowMs >= this.expiresAtMs) {
        return `the session of User:${this.user} expired (connections.max.reauth.ms ${this.reauthMs}) and it did not re-authenticate`;
      }
      return "concurrent";
    }
    switch (this.phase) {
      case "versions-or-handshake":
        if (apiKey === API_VERSIONS_KEY) {
          // KIP-511: a version too new for us is answered and may be retried.
          if (version <= this.apiVersionsMax) this.phase = "handshake";
          return "serial";
        }
        if (apiKey === SASL_HANDSHAKE_KEY) return "serial";
        break;
      case "handshake":
        if (apiKey === SASL_HANDSHAKE_KEY) return "serial";
        break;
      case "authenticate":
        if (apiKey === SASL_AUTHENTICATE_KEY) return "serial";
        break;
    }
    return `Unexpected Kafka request of type ${
      this.apiName(apiKey)
    } during SASL authentication (expecting ${EXPECTED[this.phase]})`;
  }
}
