/**
 * The client side of SASL/PLAIN and SCRAM (RFC 4616, RFC 5802) for the tests,
 * over WireClient: ApiVersions, SaslHandshake v1, SaslAuthenticate. Written
 * here from the RFCs so that the broker's side is checked against an
 * independent exchange.
 */

import {
  API_VERSIONS_API,
  SASL_AUTHENTICATE_API,
  SASL_HANDSHAKE_API,
  type SaslAuthenticateResponse,
} from "../protocol/generated/mod.ts";
import type { WireClient } from "./wire_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Scram = "SCRAM-SHA-256" | "SCRAM-SHA-512";
const HASH = { "SCRAM-SHA-256": ["SHA-256", 256], "SCRAM-SHA-512": ["SHA-512", 512] } as const;

async function hmac(m: Scram, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: HASH[m][0] },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data as BufferSource));
}

export async function salted(m: Scram, password: string, salt: Uint8Array, i: number) {
  const k = await crypto.subtle.importKey("raw", enc.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: HASH[m][0], salt: salt as BufferSource, iterations: i },
      k,
      HASH[m][1],
    ),
  );
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export function saslName(user: string): string {
  return user.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

export async function handshake(c: WireClient, mechanism: string) {
  return await c.call(SASL_HANDSHAKE_API, 1, { mechanism });
}

export function authenticate(
  c: WireClient,
  bytes: Uint8Array,
  version = 2,
): Promise<SaslAuthenticateResponse> {
  return c.call(SASL_AUTHENTICATE_API, version, { authBytes: bytes });
}

/** The messages of one SCRAM exchange, with knobs to break it. */
export interface ScramOptions {
  /** Replace the proof by zeros. */
  badProof?: boolean;
  version?: number;
}

/** A full SCRAM exchange; returns the final SaslAuthenticate response (or the first failing one). */
export async function scramLogin(
  c: WireClient,
  m: Scram,
  user: string,
  password: string,
  opts: ScramOptions = {},
): Promise<SaslAuthenticateResponse> {
  const version = opts.version ?? 2;
  const hs = await handshake(c, m);
  if (hs.errorCode !== 0) throw new Error(`handshake error ${hs.errorCode}`);
  const nonce = b64(crypto.getRandomValues(new Uint8Array(18)));
  const bare = `n=${saslName(user)},r=${nonce}`;
  const first = await authenticate(c, enc.encode(`n,,${bare}`), version);
  if (first.errorCode !== 0) return first;
  const serverFirst = dec.decode(first.authBytes);
  const f = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
  if (!f.r.startsWith(nonce)) throw new Error(`server nonce ${f.r} does not extend ${nonce}`);
  const saltedPw = await salted(m, password, unb64(f.s), Number(f.i));
  const clientKey = await hmac(m, saltedPw, enc.encode("Client Key"));
  const storedKey = new Uint8Array(
    await crypto.subtle.digest(HASH[m][0], clientKey as BufferSource),
  );
  const withoutProof = `c=${b64(enc.encode("n,,"))},r=${f.r}`;
  const authMessage = enc.encode(`${bare},${serverFirst},${withoutProof}`);
  const sig = await hmac(m, storedKey, authMessage);
  const proof = opts.badProof
    ? new Uint8Array(clientKey.length)
    : clientKey.map((x, i) => x ^ sig[i]);
  const final = await authenticate(c, enc.encode(`${withoutProof},p=${b64(proof)}`), version);
  if (final.errorCode !== 0) return final;
  const serverKey = await hmac(m, saltedPw, enc.encode("Server Key"));
  const expected = `v=${b64(await hmac(m, serverKey, authMessage))}`;
  if (dec.decode(final.authBytes) !== expected) throw new Error("server signature is wrong");
  return final;
}

export async function plainLogin(
  c: WireClient,
  user: string,
  password: string,
  authzid = "",
): Promise<SaslAuthenticateResponse> {
  const hs = await handshake(c, "PLAIN");
  if (hs.errorCode !== 0) throw new Error(`handshake error ${hs.errorCode}`);
  return await authenticate(c, enc.encode(`${authzid}\u0000${user}\u0000${password}`));
}

export async function apiVersions(c: WireClient) {
  return await c.call(API_VERSIONS_API, 3, {
    clientSoftwareName: "sasl-test",
    clientSoftwareVersion: "1",
    clusterId: null,
    nodeId: -1,
  });
}
