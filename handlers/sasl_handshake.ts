/**
 * SaslHandshake (key 17, KIP-43, KIP-152): the client names its mechanism.
 * One not in sasl.enabled.mechanisms is UNSUPPORTED_SASL_MECHANISM with the
 * enabled list, and the connection closes, as Kafka's SaslServerAuthenticator
 * does. On a listener without SASL, or once authenticated without
 * re-authentication (KIP-368), it is ILLEGAL_SASL_STATE. A re-authentication
 * must keep the session's mechanism.
 *
 * After v0 the client's tokens come raw, length-prefixed without Kafka's
 * headers (the connection loop hands them to broker/sasl/exchange.ts); after
 * v1 they come in SaslAuthenticate.
 */

import { SASL_HANDSHAKE_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";
import { enabledMechanisms, newSaslServer } from "../broker/sasl/mechanisms.ts";

export const saslHandshake = defineHandler({
  api: SASL_HANDSHAKE_API,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    const sasl = ctx.connection.sasl;
    const enabled = enabledMechanisms(ctx.broker.config.security);
    const answer = (errorCode: number) => Promise.resolve({ errorCode, mechanisms: enabled });
    if (sasl === null) return answer(ErrorCode.ILLEGAL_SASL_STATE);
    if (sasl.authenticated && (sasl.reauthMs <= 0 || sasl.phase !== "complete")) {
      return answer(ErrorCode.ILLEGAL_SASL_STATE);
    }
    const reauth = sasl.authenticated;
    if (!enabled.includes(req.mechanism) || (reauth && req.mechanism !== sasl.mechanism)) {
      sasl.closeAfterResponse = true;
      return answer(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    }
    sasl.server = newSaslServer(req.mechanism, ctx.broker.meta, ctx.broker.config.security);
    sasl.phase = "authenticate";
    sasl.raw = ctx.apiVersion === 0;
    return answer(ErrorCode.NONE);
  },
});
