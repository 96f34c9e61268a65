/**
 * SASL/OAUTHBEARER (RFC 7628, KIP-255) validating JWTs as Kafka's broker-side
 * validator does (KIP-768): the signature against the keys of a JWKS (an
 * https URL refreshed periodically, or a file re-read when it changes), `exp`
 * required, `exp`/`nbf`/`iat` with 30 s of clock skew
 * (sasl.oauthbearer.clock.skew.seconds), the expected issuer and audience,
 * and the principal from the configured claim (sasl.oauthbearer.sub.claim.name).
 *
 * The client's message is `n,[a=<authzid>],\x01auth=Bearer <jwt>\x01[k=v\x01]*\x01`.
 * A bad token is answered, as RFC 7628 says, with an error challenge
 * (`{"status":"invalid_token"}`); the client acknowledges it with a lone
 * `\x01` and the exchange then fails.
 */

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import type { OAuthBearerSettings } from "../security_config.ts";
import { SaslFailure, type SaslServer, type SaslStep } from "./mechanism.ts";

/** A failed OAUTHBEARER check (the committed mechanism interface's failure). */
class SaslAuthenticationError extends SaslFailure {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function tokenText(token: Uint8Array): string {
  try {
    return utf8.decode(token);
  } catch {
    throw new SaslAuthenticationError("The SASL token is not UTF-8");
  }
}

/** sasl.oauthbearer.clock.skew.seconds' default. */
const CLOCK_SKEW_SECONDS = 30;
/** How often a JWKS file is looked at for changes, and a URL's keys are refreshed. */
const JWKS_REFRESH_MS = 60_000;

// RFC 7628 separates key=value pairs with \x01 (kvsep).
// deno-lint-ignore no-control-regex
const CLIENT_FIRST = /^n,(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]*\x01)+)\x01$/;

/** The keys tokens are checked against, from `--sasl-oauthbearer-jwks-url`. */
export class JwksKeys {
  private readonly remote: JWTVerifyGetKey | null = null;
  private local: JWTVerifyGetKey | null = null;
  private readonly path: string | null = null;
  private mtime = -1;
  private checkedAt = 0;

  constructor(url: string) {
    if (/^https?:\/\//.test(url)) {
      this.remote = createRemoteJWKSet(new URL(url), {
        cacheMaxAge: JWKS_REFRESH_MS,
        cooldownDuration: 5_000,
      });
    } else {
      this.path = url.startsWith("file:") ? new URL(url).pathname : url;
    }
  }

  /** The key-lookup function jose verifies with. */
  async getKey(): Promise<JWTVerifyGetKey> {
    if (this.remote) return this.remote;
    const now = Date.now();
    if (this.local === null || now - this.checkedAt >= JWKS_REFRESH_MS) {
      this.checkedAt = now;
      const stat = await Deno.stat(this.path!);
      const mtime = stat.mtime?.getTime() ?? 0;
      if (this.local === null || mtime !== this.mtime) {
        const jwks = JSON.parse(await Deno.readTextFile(this.path!)) as JSONWebKeySet;
        this.local = createLocalJWKSet(jwks);
        this.mtime = mtime;
      }
    }
    return this.local;
  }
}

/** What a valid token says. */
export interface ValidToken {
  principalName: string;
  expiresAtMs: number;
}

/** Validates one JWT; throws SaslAuthenticationError. */
export async function validateToken(
  jwt: string,
  keys: JwksKeys,
  settings: OAuthBearerSettings,
): Promise<ValidToken> {
  let payload;
  try {
    ({ payload } = await jwtVerify(jwt, await keys.getKey(), {
      issuer: settings.expectedIssuer ?? undefined,
      audience: settings.expectedAudience.length > 0 ? settings.expectedAudience : undefined,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp"],
    }));
  } catch (e) {
    // jose's codes name the check (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ...).
    const code = (e as { code?: string }).code ?? (e as Error).name;
    throw new SaslAuthenticationError(`Invalid OAuth token: ${code}`);
  }
  const sub = payload[settings.subClaim];
  if (typeof sub !== "string" || sub === "") {
    throw new SaslAuthenticationError(`The token has no ${settings.subClaim} claim`);
  }
  return { principalName: sub, expiresAtMs: (payload.exp as number) * 1000 };
}

const enc = new TextEncoder();

export class OAuthBearerServer implements SaslServer {
  readonly mechanism = "OAUTHBEARER";
  /** When the validated token expires (KIP-368 caps the session at it), epoch ms. */
  expiresAtMs: number | null = null;
  private step: "first" | "error-sent" | "done" = "first";

  constructor(
    private readonly keys: JwksKeys | null,
    private readonly settings: OAuthBearerSettings,
  ) {}

  async evaluate(token: Uint8Array): Promise<SaslStep> {
    if (this.step === "error-sent") {
      this.step = "done";
      throw new SaslAuthenticationError("The token was refused");
    }
    if (this.step === "done") throw new SaslAuthenticationError("The exchange is over");
    this.step = "done";
    const text = tokenText(token);
    const m = CLIENT_FIRST.exec(text);
    if (!m) throw new SaslAuthenticationError("Invalid OAUTHBEARER client message");
    const [, authzid, pairs] = m;
    let auth: string | null = null;
    for (const kv of pairs.split("\x01")) {
      if (kv.startsWith("auth=")) auth = kv.slice(5);
    }
    const bearer = auth === null ? null : /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(auth);
    try {
      if (bearer === null) throw new SaslAuthenticationError("No bearer token");
      if (this.keys === null) throw new SaslAuthenticationError("No JWKS configured");
      const valid = await validateToken(bearer[1], this.keys, this.settings);
      if (authzid !== undefined && authzid !== "" && authzid !== valid.principalName) {
        throw new SaslAuthenticationError(
          "Client requested an authorization id that is different from the token's principal",
        );
      }
      this.expiresAtMs = valid.expiresAtMs;
      return { response: new Uint8Array(0), user: valid.principalName };
    } catch (e) {
      if (!(e instanceof SaslFailure)) throw e;
      // RFC 7628 3.2.2: an error challenge, which the client acknowledges before failing.
      this.step = "error-sent";
      return { response: enc.encode(JSON.stringify({ status: "invalid_token" })), user: null };
    }
  }
}
