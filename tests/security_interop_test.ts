/**
 * The cross-client security matrix (issue 13) against this broker, started as a real process
 * (`deno run -A main.ts`, memory stores) with SASL_SSL, SSL (client certificate required) and
 * PLAINTEXT listeners and the certificates of tests/certs.ts: per client family (Java,
 * librdkafka through confluent-kafka and kcat, franz-go, kafkajs, @platformatic/kafka) produce
 * and consume 200 records over SASL_SSL with SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN and over SSL;
 * then a wrong password, an unknown user, a plaintext client on the TLS port and a TLS client on
 * the plaintext port each fail within 20 s with the driver's error line, while a consumer
 * connected before them keeps reading. Clients run one at a time; one broker for everything.
 * tests/security_kafka_reference_test.ts runs the same matrix against Apache Kafka 4.4.
 */

import assert from "node:assert/strict";
import { type BrokerProcess, spawnBroker } from "./broker_util.ts";
import { runAny } from "./client_drivers.ts";
import { makeTestCerts } from "./certs.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";
import {
  failureCases,
  type MatrixTarget,
  SECURITY_DRIVERS,
  successCases,
  type Timing,
  timingTable,
} from "./security_matrix.ts";

const COUNT = 200;
const KCAT_COUNT = 50; // kcat produces with one process (one TLS and SASL login) per record
const USER = "alice";
const PASSWORD = "alice-interop-secret";

/** Waits (10 s at most) for the `listener NAME on host:port` lines of every listener. */
async function listenerPorts(b: BrokerProcess, names: string[]): Promise<Map<string, number>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ports = new Map<string, number>();
    for (const m of b.output().matchAll(/listener (\w+) on [^\s]+:(\d+)/g)) {
      ports.set(m[1], Number(m[2]));
    }
    if (names.every((n) => ports.has(n))) return ports;
    if (Date.now() > deadline) {
      throw new Error(`no 'listener NAME on host:port' line for ${names}:\n${b.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "security interop: every client over SASL_SSL and SSL, and the failures",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn(t) {
    for (const d of SECURITY_DRIVERS) await d.check();
    const certs = await makeTestCerts({ alice: "/CN=alice/O=acme" });
    const timings: Timing[] = [];
    try {
      await using broker = await spawnBroker([
        "--listeners",
        "SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
        "--tls-cert",
        certs.serverCertFile,
        "--tls-key",
        certs.serverKeyFile,
        "--tls-client-ca",
        certs.caCertFile,
        "--sasl-users",
        `${USER}:${PASSWORD}`,
        "--meta",
        "memory:",
        "--log",
        "memory:",
        "--log-level",
        "warning",
      ]);
      const ports = await listenerPorts(broker, ["SASL_SSL", "SSL", "PLAINTEXT"]);
      const target: MatrixTarget = {
        saslSsl: `127.0.0.1:${ports.get("SASL_SSL")}`,
        ssl: `127.0.0.1:${ports.get("SSL")}`,
        plaintext: `127.0.0.1:${ports.get("PLAINTEXT")}`,
        user: USER,
        password: PASSWORD,
        certs: {
          ca: certs.caCertFile,
          clientCert: certs.clients.alice.certFile,
          clientKey: certs.clients.alice.keyFile,
        },
      };
      assert.ok(!broker.output().includes(PASSWORD), "the broker logged a password");

      for (const d of SECURITY_DRIVERS) {
        const count = d.name === "kcat" ? KCAT_COUNT : COUNT;
        await successCases(t, d, target, count, timings, "sec");
      }

      // A member connected before the failures keeps reading through them.
      const franzgo = SECURITY_DRIVERS.find((d) => d.name === "franzgo")!;
      const librdkafka = SECURITY_DRIVERS.find((d) => d.name === "librdkafka")!;
      const sasl = [
        "--security-protocol",
        "SASL_SSL",
        "--sasl-mechanism",
        "SCRAM-SHA-512",
        "--sasl-username",
        USER,
        "--sasl-password",
        PASSWORD,
        "--ssl-ca",
        certs.caCertFile,
      ];
      const produce = async (start: number) => {
        const r = await runAny(librdkafka, [
          "produce",
          "--bootstrap",
          target.saslSsl,
          "--topic",
          "sec-survivor",
          "--count",
          String(COUNT),
          "--start",
          String(start),
          "--create-partitions",
          "2",
          ...sasl,
        ], 60_000).done;
        assert.equal(r.code, 0, `survivor produce: ${r.stderr.slice(-1500)}`);
        return parseLines<Produced>(r.stdout).records;
      };
      const before = await produce(0);
      const survivor = runAny(franzgo, [
        "consume",
        "--bootstrap",
        target.saslSsl,
        "--topic",
        "sec-survivor",
        "--count",
        String(2 * COUNT),
        "--timeout-ms",
        "240000",
        ...sasl,
      ], 300_000);

      for (const d of SECURITY_DRIVERS) await failureCases(t, d, target, timings);

      await t.step("the consumer connected before the failures read on", async () => {
        const after = await produce(COUNT);
        const r = await survivor.done;
        assert.equal(r.code, 0, `survivor consume: ${r.stderr.slice(-1500)}`);
        assertSameRecords(
          [...before, ...after],
          parseLines<Consumed>(r.stdout).records,
          "survivor",
        );
      });
      assert.ok(!broker.output().includes(PASSWORD), "the broker logged a password");
    } finally {
      console.log(timingTable(timings));
      await certs.cleanup();
    }
  },
});
