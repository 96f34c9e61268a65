/**
 * An in-process broker with a SASL_PLAINTEXT listener for the SASL tests. The
 * broker's own port stays PLAINTEXT; the SASL listener is served here by the
 * broker's own connection loop (server/connection.ts serveConnection) over
 * real TCP, until server/broker.ts opens every configured listener itself.
 */

import type { Broker, BrokerOptions } from "../server/broker.ts";
import { serveConnection } from "../server/connection.ts";
import { DEFAULT_SECURITY_CONFIG, type SecurityConfig } from "../broker/security_config.ts";
import { testBroker } from "./broker_util.ts";

export interface SaslBroker extends AsyncDisposable {
  broker: Broker;
  /** The SASL_PLAINTEXT port. */
  saslPort: number;
  /** The PLAINTEXT port. */
  port: number;
}

export async function saslBroker(
  security: Partial<SecurityConfig>,
  opts: Partial<BrokerOptions> = {},
): Promise<SaslBroker> {
  const listener = {
    name: "SASL_PLAINTEXT",
    protocol: "SASL_PLAINTEXT",
    host: "127.0.0.1",
    port: 0,
  } as const;
  const broker = await testBroker({
    ...opts,
    security: { ...DEFAULT_SECURITY_CONFIG, ...security },
  });
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = {
    broker: broker.context,
    handlers: broker.handlers,
    connections: new Set<() => Promise<void>>(),
  };
  const serving = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of tcp) {
        const p = serveConnection(conn, server, listener).finally(() => serving.delete(p));
        serving.add(p);
      }
    } catch { /* closed */ }
  })();
  return {
    broker,
    saslPort: (tcp.addr as Deno.NetAddr).port,
    port: broker.port,
    async [Symbol.asyncDispose]() {
      tcp.close();
      await accepting;
      await Promise.all([...server.connections].map((d) => d()));
      await Promise.all(serving);
      await broker.close(5000);
    },
  };
}
