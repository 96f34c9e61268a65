/**
 * SASL/PLAIN (RFC 4616; Kafka's PlainSaslServer): one message
 * `authzid NUL authcid NUL passwd`, the authzid empty or the user itself. The
 * password is checked against the user's stored SCRAM credential: the salted
 * password is recomputed with its salt and iterations and StoredKey compared
 * in constant time, so no password is ever stored.
 */

import type { MetaStore } from "../../stores/types.ts";
import { loadCredential } from "./credentials.ts";
import { SaslFailure, type SaslServer, type SaslStep } from "./mechanism.ts";
import {
  MIN_ITERATIONS,
  passwordMatches,
  type ScramCredential,
  type ScramMechanism,
} from "./scram_crypto.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Checked when the user is unknown, so that the answer takes as long as for a known one. */
const DUMMY: ScramCredential = {
  salt: new Uint8Array(32),
  storedKey: new Uint8Array(64),
  serverKey: new Uint8Array(64),
  iterations: MIN_ITERATIONS,
};

export class PlainServer implements SaslServer {
  readonly mechanism = "PLAIN";
  #done = false;

  constructor(private readonly meta: MetaStore) {}

  async evaluate(token: Uint8Array): Promise<SaslStep> {
    if (this.#done) throw new SaslFailure("PLAIN takes one message");
    this.#done = true;
    let text: string;
    try {
      text = utf8.decode(token);
    } catch {
      throw new SaslFailure("Invalid SASL/PLAIN response: not UTF-8");
    }
    const parts = text.split("\u0000");
    if (parts.length !== 3) {
      throw new SaslFailure(`Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`);
    }
    const [authzid, user, password] = parts;
    if (user === "") throw new SaslFailure("Authentication failed: username not specified");
    if (password === "") throw new SaslFailure("Authentication failed: password not specified");
    if (authzid !== "" && authzid !== user) {
      throw new SaslFailure(
        "Authentication failed: Client requested an authorization id that is different from username",
      );
    }
    let m: ScramMechanism = "SCRAM-SHA-512";
    let cred = await loadCredential(this.meta, user, m);
    if (cred === null) {
      m = "SCRAM-SHA-256";
      cred = await loadCredential(this.meta, user, m);
    }
    const ok = await passwordMatches(m, cred ?? DUMMY, password);
    if (cred === null || !ok) {
      throw new SaslFailure(`Authentication failed: Invalid username or password for ${user}`);
    }
    return { response: new Uint8Array(0), user };
  }
}
