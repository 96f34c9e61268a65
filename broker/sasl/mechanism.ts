/**
 * What a SASL mechanism's server side is (KIP-43): it evaluates the client's
 * tokens one at a time until the exchange completes with a user, or fails.
 */

/**
 * A failed exchange. The message is for the broker's log only and never holds
 * a password; the client is told Kafka's one fixed message whatever went
 * wrong (SaslServerAuthenticator).
 */
export class SaslFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SaslFailure";
  }
}

export interface SaslStep {
  /** The server's token for the client (empty when it has nothing to say). */
  response: Uint8Array;
  /** Set when the exchange is complete: the authenticated user name. */
  user: string | null;
}

export interface SaslServer {
  readonly mechanism: string;
  /** When the credential itself ends (an OAUTHBEARER token's exp), epoch ms; else null/absent. */
  readonly expiresAtMs?: number | null;
  /** Throws SaslFailure when the token is wrong, out of order, or the credentials are. */
  evaluate(token: Uint8Array): Promise<SaslStep>;
}
