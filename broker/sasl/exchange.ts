/**
 * One client token of a SASL exchange, whether it came in SaslAuthenticate
 * (KIP-152) or raw after SaslHandshake v0 (KIP-43). A completed exchange makes
 * the connection's principal `User:<name>` and starts the session (KIP-368);
 * a failed one waits connection.failed.authentication.delay.ms (KIP-306,
 * longer for an address that keeps failing), marks the connection for closing
 * and gives Kafka's one message whatever was wrong. A re-authentication must
 * keep the principal.
 */

import { getLogger } from "@logtape/logtape";
import type { ConnectionInfo } from "../../handlers/types.ts";
import { failureDelays } from "./failure_delay.ts";
import { SaslFailure } from "./mechanism.ts";
import type { SaslSession } from "./session.ts";

const log = getLogger(["skb", "sasl"]);

export type ExchangeResult =
  | { failed: false; response: Uint8Array; complete: boolean }
  | { failed: true; message: string };

export async function exchange(
  sasl: SaslSession,
  token: Uint8Array,
  broker: object,
  conn: ConnectionInfo,
): Promise<ExchangeResult> {
  const server = sasl.server!;
  const failed = async (reason: string): Promise<ExchangeResult> => {
    sasl.server = null;
    sasl.raw = false;
    sasl.closeAfterResponse = true;
    const delayMs = failureDelays(broker).fail(conn.remoteHost);
    log.info(
      "SASL {mechanism} authentication from {remote} failed: {reason}; answering in {delayMs} ms and closing",
      { mechanism: server.mechanism, remote: conn.remote, reason, delayMs },
    );
    await new Promise((r) => setTimeout(r, delayMs));
    return {
      failed: true,
      message:
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${server.mechanism}`,
    };
  };
  let step;
  try {
    step = await server.evaluate(token);
  } catch (e) {
    if (e instanceof SaslFailure) return await failed(e.message);
    throw e;
  }
  if (step.user === null) return { failed: false, response: step.response, complete: false };
  if (sasl.user !== null && sasl.user !== step.user) {
    return await failed(
      `re-authentication as User:${step.user} on a session of User:${sasl.user} (the principal cannot change)`,
    );
  }
  sasl.user = step.user;
  sasl.mechanism = server.mechanism;
  sasl.server = null;
  sasl.raw = false;
  sasl.phase = "complete";
  // KIP-368: the session lasts connections.max.reauth.ms, and no longer than the credential.
  sasl.expiresAtMs = sasl.reauthMs > 0
    ? Math.min(Date.now() + sasl.reauthMs, server.expiresAtMs ?? Infinity)
    : Infinity;
  conn.principal = `User:${step.user}`;
  return { failed: false, response: step.response, complete: true };
}
