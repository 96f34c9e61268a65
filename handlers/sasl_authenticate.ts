/**
 * SaslAuthenticate (key 36, KIP-152): one SASL token each way. From v1 the
 * answer carries the session lifetime (KIP-368, connections.max.reauth.ms; 0
 * when sessions never expire). A failed exchange is SASL_AUTHENTICATION_FAILED
 * with Kafka's one message, after the failed-authentication delay, and the
 * connection closes (broker/sasl/exchange.ts). On a listener without SASL, or
 * with no exchange begun by SaslHandshake, it is ILLEGAL_SASL_STATE.
 */

import { SASL_AUTHENTICATE_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";
import { exchange } from "../broker/sasl/exchange.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

export const saslAuthenticate = defineHandler({
  api: SASL_AUTHENTICATE_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const sasl = ctx.connection.sasl;
    if (sasl === null || sasl.phase !== "authenticate" || sasl.server === null || sasl.raw) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: "SaslAuthenticate request received after successful authentication",
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
    const r = await exchange(sasl, req.authBytes ?? EMPTY, ctx.broker, ctx.connection);
    if (r.failed) {
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: r.message,
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      authBytes: r.response,
      sessionLifetimeMs: r.complete && sasl.expiresAtMs !== Infinity
        ? Math.max(1, sasl.expiresAtMs - Date.now())
        : 0,
    };
  },
});
