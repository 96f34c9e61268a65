/**
 * The server side of SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677,
 * KIP-84) with Kafka's rules (ScramSaslServer): client-first, server-first,
 * client-final, server-final, in that order and nothing after; no channel
 * binding (the GS2 header is `n,,` or `n,a=<the user>,`); user names escape
 * `,` and `=` as `=2C` and `=3D`; credentials with fewer than 4096
 * iterations never authenticate. Any malformed or out-of-order message fails
 * the exchange.
 */

import type { MetaStore } from "../../stores/types.ts";
import { loadCredential } from "./credentials.ts";
import { SaslFailure, type SaslServer, type SaslStep } from "./mechanism.ts";
import {
  constantTimeEqual,
  fromBase64,
  hash,
  hmac,
  MIN_ITERATIONS,
  type ScramCredential,
  type ScramMechanism,
  toBase64,
  xor,
} from "./scram_crypto.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const enc = new TextEncoder();

/** saslname of RFC 5802: no `,` or `=` except the escapes =2C and =3D. */
const SASLNAME = "(?:[^\\x00=,]|=2C|=3D)+";
const PRINTABLE = "[\\x21-\\x2B\\x2D-\\x7E]+";
const VALUE = "[^\\x00,]*";
const EXTENSIONS = `(?:,[A-Za-z]+=${VALUE})*`;
const CLIENT_FIRST = new RegExp(
  `^n,(?:a=(${SASLNAME}))?,((?:m=${VALUE},)?n=(${SASLNAME}),r=(${PRINTABLE})(${EXTENSIONS}))$`,
);
const CLIENT_FINAL = new RegExp(
  `^(c=([A-Za-z0-9+/=]+),r=(${PRINTABLE})${EXTENSIONS}),p=([A-Za-z0-9+/=]+)$`,
);

/** Decodes an RFC 5802 saslname; null when an `=` escapes anything else. */
export function decodeSaslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replaceAll("=2C", ",").replaceAll("=3D", "=");
}

function decode(token: Uint8Array): string {
  try {
    return utf8.decode(token);
  } catch {
    throw new SaslFailure("SCRAM message is not UTF-8");
  }
}

export class ScramServer implements SaslServer {
  #state: "first" | "final" | "done" = "first";
  #user = "";
  #gs2 = "";
  #nonce = "";
  #clientFirstBare = "";
  #serverFirst = "";
  #cred: ScramCredential | null = null;

  constructor(readonly mechanism: ScramMechanism, private readonly meta: MetaStore) {}

  evaluate(token: Uint8Array): Promise<SaslStep> {
    const state = this.#state;
    // Whatever happens now, this step is not repeated: a failure ends the exchange.
    this.#state = "done";
    if (state === "first") return this.#first(decode(token));
    if (state === "final") return this.#final(decode(token));
    return Promise.reject(new SaslFailure("SCRAM exchange already complete or failed"));
  }

  async #first(msg: string): Promise<SaslStep> {
    const m = CLIENT_FIRST.exec(msg);
    if (!m) throw new SaslFailure("Invalid SCRAM client first message");
    const [, authzid, bare, saslName, nonce, extensions] = m;
    const user = decodeSaslName(saslName);
    if (user === null) throw new SaslFailure("Invalid SCRAM user name escape");
    if (authzid !== undefined && decodeSaslName(authzid) !== user) {
      throw new SaslFailure(
        "Authentication failed: Client requested an authorization id that is different from username",
      );
    }
    // KIP-48 delegation tokens authenticate with tokenauth=true; this broker issues none.
    if (/,tokenauth=true(?:,|$)/i.test(extensions)) {
      throw new SaslFailure("Delegation token authentication is not enabled");
    }
    const cred = await loadCredential(this.meta, user, this.mechanism);
    if (cred === null) throw new SaslFailure(`Authentication failed: Invalid user credentials`);
    if (cred.iterations < MIN_ITERATIONS) {
      throw new SaslFailure(
        `Iterations ${cred.iterations} is less than the minimum ${MIN_ITERATIONS} for ${this.mechanism}`,
      );
    }
    this.#user = user;
    this.#gs2 = msg.slice(0, msg.length - bare.length);
    this.#clientFirstBare = bare;
    this.#nonce = nonce + toBase64(crypto.getRandomValues(new Uint8Array(18)));
    this.#serverFirst = `r=${this.#nonce},s=${toBase64(cred.salt)},i=${cred.iterations}`;
    this.#cred = cred;
    this.#state = "final";
    return { response: enc.encode(this.#serverFirst), user: null };
  }

  async #final(msg: string): Promise<SaslStep> {
    const m = CLIENT_FINAL.exec(msg);
    if (!m) throw new SaslFailure("Invalid SCRAM client final message");
    const [, withoutProof, channel, nonce, proofB64] = m;
    const binding = fromBase64(channel);
    if (binding === null || new TextDecoder().decode(binding) !== this.#gs2) {
      throw new SaslFailure("Invalid SCRAM channel binding");
    }
    if (nonce !== this.#nonce) throw new SaslFailure("Invalid SCRAM nonce");
    const proof = fromBase64(proofB64);
    const cred = this.#cred!;
    if (proof === null || proof.length !== cred.storedKey.length) {
      throw new SaslFailure("Invalid SCRAM client proof");
    }
    const authMessage = enc.encode(`${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`);
    const signature = await hmac(this.mechanism, cred.storedKey, authMessage);
    const clientKey = xor(proof, signature);
    if (!constantTimeEqual(await hash(this.mechanism, clientKey), cred.storedKey)) {
      throw new SaslFailure(`Invalid client credentials for user ${this.#user}`);
    }
    const serverSignature = await hmac(this.mechanism, cred.serverKey, authMessage);
    return { response: enc.encode(`v=${toBase64(serverSignature)}`), user: this.#user };
  }
}
