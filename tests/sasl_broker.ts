/**
 * An in-process broker for the SASL tests with two real listeners: PLAINTEXT
 * (admin calls, ILLEGAL_SASL_STATE checks) and SASL_PLAINTEXT.
 */

import type { Broker, BrokerOptions } from "../server/broker.ts";
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
  const broker = await testBroker({
    ...opts,
    security: {
      ...DEFAULT_SECURITY_CONFIG,
      listeners: [
        { name: "PLAINTEXT", protocol: "PLAINTEXT", host: "127.0.0.1", port: 0 },
        { name: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", host: "127.0.0.1", port: 0 },
      ],
      ...security,
    },
  });
  const port = (name: string) => {
    const l = broker.listeners.find((l) => l.name === name);
    if (!l) throw new Error(`the broker opened no ${name} listener`);
    return l.port;
  };
  return {
    broker,
    saslPort: port("SASL_PLAINTEXT"),
    port: port("PLAINTEXT"),
    [Symbol.asyncDispose]: () => broker.close(5000),
  };
}
