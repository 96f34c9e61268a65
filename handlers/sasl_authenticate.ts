/**
 * SaslAuthenticate (key 36, KIP-152): one SASL token each way. A completed
 * exchange makes the connection's principal `User:<name>`; from v1 the answer
 * carries the session lifetime (KIP-368, connections.max.reauth.ms; 0 when
 * sessions never expire). A failed one is SASL_AUTHENTICATION_FAILED with
 * Kafka's one message whatever was wrong, after
 * connection.failed.authentication.delay.ms (KIP-306, longer for an address
 * that keeps failing), and the connection closes. A re-authentication must
 * keep the principal.
 */

import { getLogger } from "@logtape/logtape";
import { SASL_AUTHENTICATE_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";
import { SaslFailure } from "../broker/sasl/mechanism.ts";
import { failureDelays } from "../broker/sasl/failure_delay.ts";

const log = getLogger(["skb", "sasl"]);
const EMPTY: Uint8Array = new Uint8Array(0);

export const saslAuthenticate = defineHandler({
  api: SASL_AUTHENTICATE_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const sasl = ctx.connection.sasl;
    const answer = (
      errorCode: number,
      errorMessage: string | null,
      authBytes: Uint8Array = EMPTY,
    ) => ({
      errorCode,
      errorMessage,
      authBytes,
      sessionLifetimeMs: 0,
    });
    if (sasl === null || sasl.phase !== "authenticate" || sasl.server === null) {
      return answer(
        ErrorCode.ILLEGAL_SASL_STATE,
        "SaslAuthenticate request received after successful authentication",
      );
    }
    const server = sasl.server;
    const failed = async (reason: string) => {
      sasl.server = null;
      sasl.closeAfterResponse = true;
      const delayMs = failureDelays(ctx.broker).fail(ctx.connection.remoteHost);
      log.info(
        "SASL {mechanism} authentication from {remote} failed: {reason}; answering in {delayMs} ms and closing",
        { mechanism: server.mechanism, remote: ctx.connection.remote, reason, delayMs },
      );
      await new Promise((r) => setTimeout(r, delayMs));
      return answer(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${server.mechanism}`,
      );
    };
    let step;
    try {
      step = await server.evaluate(req.authBytes ?? EMPTY);
    } catch (e) {
      if (e instanceof SaslFailure) return await failed(e.message);
      throw e;
    }
    if (step.user === null) return answer(ErrorCode.NONE, null, step.response);
    if (sasl.user !== null && sasl.user !== step.user) {
      return await failed(
        `re-authentication as User:${step.user} on a session of User:${sasl.user} (the principal cannot change)`,
      );
    }
    const reauthMs = sasl.reauthMs;
    sasl.user = step.user;
    sasl.mechanism = server.mechanism;
    sasl.server = null;
    sasl.phase = "complete";
    sasl.expiresAtMs = reauthMs > 0 ? Date.now() + reauthMs : Infinity;
    ctx.connection.principal = `User:${step.user}`;
    return { ...answer(ErrorCode.NONE, null, step.response), sessionLifetimeMs: reauthMs };
  },
});
