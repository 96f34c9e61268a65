/**
 * The SCRAM computations of RFC 5802 with the hashes of RFC 7677 (SHA-256) and
 * Kafka's SCRAM-SHA-512 (KIP-84), on WebCrypto. A credential keeps the salt,
 * the iteration count, StoredKey and ServerKey, never the password.
 */

/** Kafka's SCRAM mechanisms and their ids on the wire (KIP-554: 1 and 2). */
export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

/** KIP-554's mechanism ids (0 is UNKNOWN). */
export const SCRAM_MECHANISM_IDS: Record<ScramMechanism, number> = {
  "SCRAM-SHA-256": 1,
  "SCRAM-SHA-512": 2,
};

export function scramMechanismById(id: number): ScramMechanism | null {
  return id === 1 ? "SCRAM-SHA-256" : id === 2 ? "SCRAM-SHA-512" : null;
}

/** Kafka's bounds on SCRAM iterations (ScramMechanism: at least 4096; KIP-554: at most 16384). */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 16384;

export interface ScramCredential {
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
  iterations: number;
}

const HASH: Record<ScramMechanism, { name: string; bits: number }> = {
  "SCRAM-SHA-256": { name: "SHA-256", bits: 256 },
  "SCRAM-SHA-512": { name: "SHA-512", bits: 512 },
};

const enc = new TextEncoder();

export async function hmac(
  m: ScramMechanism,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: HASH[m].name },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data as BufferSource));
}

export async function hash(m: ScramMechanism, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(HASH[m].name, data as BufferSource));
}

/** Hi() of RFC 5802: PBKDF2 with HMAC of the mechanism's hash. */
export async function saltedPassword(
  m: ScramMechanism,
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", enc.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: HASH[m].name, salt: salt as BufferSource, iterations },
    k,
    HASH[m].bits,
  );
  return new Uint8Array(bits);
}

/** StoredKey and ServerKey from a salted password (what AlterUserScramCredentials carries). */
export async function credentialFromSalted(
  m: ScramMechanism,
  salted: Uint8Array,
  salt: Uint8Array,
  iterations: number,
): Promise<ScramCredential> {
  const clientKey = await hmac(m, salted, enc.encode("Client Key"));
  const storedKey = await hash(m, clientKey);
  const serverKey = await hmac(m, salted, enc.encode("Server Key"));
  return { salt, storedKey, serverKey, iterations };
}

export async function credentialFromPassword(
  m: ScramMechanism,
  password: string,
  iterations: number,
  salt: Uint8Array = crypto.getRandomValues(new Uint8Array(32)),
): Promise<ScramCredential> {
  const salted = await saltedPassword(m, password, salt, iterations);
  return credentialFromSalted(m, salted, salt, iterations);
}

/** Whether `password` is the one the credential was made from (PLAIN, and --sasl-users at start). */
export async function passwordMatches(
  m: ScramMechanism,
  cred: ScramCredential,
  password: string,
): Promise<boolean> {
  const again = await credentialFromPassword(m, password, cred.iterations, cred.salt);
  return constantTimeEqual(again.storedKey, cred.storedKey);
}

/** Compares without stopping at the first difference. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ (b[i] ?? 0);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** Decodes base64, or null when it is not base64. */
export function fromBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
