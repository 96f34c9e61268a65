/**
 * The cross-client security matrix (tests/security_matrix.ts) against a real Apache Kafka 4.4
 * (scripts/apache_kafka.sh with its opt-in SASL_SSL and SSL listeners, SCRAM users created at
 * format time): proves each driver's security settings and error lines right independently of
 * this broker, and records what each client reports for each failure (the reference for
 * tests/security_interop_test.ts). Heavy: one Kafka start.
 */

import { makeTestCerts } from "./certs.ts";
import { ROOT } from "./broker_util.ts";
import {
  failureCases,
  type MatrixTarget,
  SECURITY_DRIVERS,
  successCases,
  type Timing,
  timingTable,
} from "./security_matrix.ts";

const COUNT = 200;
const KCAT_COUNT = 50;
const USER = "alice";
const PASSWORD = "alice-kafka-secret";

/** Four free loopback ports (plaintext, SASL_SSL, SSL, controller). */
function freePorts(n: number): number[] {
  const ls = Array.from({ length: n }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = ls.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of ls) l.close();
  return ports;
}

async function kafka(cmd: "start" | "stop", port: number, env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", {
    args: [new URL("scripts/apache_kafka.sh", ROOT).pathname, cmd, String(port)],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`apache_kafka.sh ${cmd} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test("security matrix against Apache Kafka 4.4 (the reference)", async (t) => {
  for (const d of SECURITY_DRIVERS) await d.check();
  const certs = await makeTestCerts({ alice: "/CN=alice/O=acme" });
  const [plain, saslSsl, ssl, controller] = freePorts(4);
  const timings: Timing[] = [];
  try {
    await kafka("start", plain, {
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SASL_SSL_PORT: String(saslSsl),
      KAFKA_SSL_PORT: String(ssl),
      KAFKA_TLS_CERT: certs.serverCertFile,
      KAFKA_TLS_KEY: certs.serverKeyFile,
      KAFKA_TLS_CA: certs.caCertFile,
      KAFKA_SCRAM_USERS: `${USER}:${PASSWORD}`,
    });
    const target: MatrixTarget = {
      saslSsl: `127.0.0.1:${saslSsl}`,
      ssl: `127.0.0.1:${ssl}`,
      plaintext: `127.0.0.1:${plain}`,
      user: USER,
      password: PASSWORD,
      certs: {
        ca: certs.caCertFile,
        clientCert: certs.clients.alice.certFile,
        clientKey: certs.clients.alice.keyFile,
      },
    };
    for (const d of SECURITY_DRIVERS) {
      await successCases(t, d, target, d.name === "kcat" ? KCAT_COUNT : COUNT, timings, "ref");
      await failureCases(t, d, target, timings);
    }
  } finally {
    console.log(timingTable(timings));
    await kafka("stop", plain).catch((e) => console.error(e));
    await certs.cleanup();
  }
});
