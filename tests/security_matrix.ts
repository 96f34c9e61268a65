/**
 * The cross-client security matrix (issue 13), run against any cluster that offers a SASL_SSL
 * listener (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN), an SSL listener requiring a client
 * certificate and a PLAINTEXT listener: per client family, produce and consume records over each,
 * then the failures (wrong password, unknown user, a plaintext client on the TLS port, a TLS
 * client on the plaintext port), each of which must end the driver quickly with the error line
 * of tests/clients/CONTRACT.md "Security". Used by tests/security_interop_test.ts (our broker)
 * and tests/security_kafka_reference_test.ts (Apache Kafka 4.4, the reference).
 */

import assert from "node:assert/strict";
import { type ClientDriver, DRIVERS, runAny } from "./client_drivers.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";

/** PEM files: the CA that signed both sides, and a client certificate for mutual TLS. */
export interface MatrixCerts {
  ca: string;
  clientCert: string;
  clientKey: string;
}

/** Where the cluster listens, and a user it knows. */
export interface MatrixTarget {
  saslSsl: string;
  ssl: string;
  plaintext: string;
  user: string;
  password: string;
  certs: MatrixCerts;
}

/** One row of the timings table in the report. */
export interface Timing {
  client: string;
  case: string;
  ms: number;
  outcome: string;
}

/** The SASL mechanisms every client family is asked for (kcat: see KCAT_MECHANISMS). */
export const MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] as const;

/**
 * kcat 1.7.1 as packaged here carries librdkafka 2.0.2, whose SCRAM exchange Apache Kafka 4.4
 * itself refuses ("invalid credentials"), while the same credentials work from librdkafka 2.16
 * (confluent-kafka): kcat runs PLAIN and SSL only.
 */
export const KCAT_MECHANISMS = ["PLAIN"] as const;

/** The kcat driver: librdkafka's command-line tool (one process per produced record). */
export const KCAT: ClientDriver = {
  name: "kcat",
  command: ["bash", new URL("clients/kcat_driver.sh", import.meta.url).pathname],
  codecs: ["none"],
  check: () => Promise.resolve(),
};

/** Every driver, kcat included. */
export const SECURITY_DRIVERS: ClientDriver[] = [...DRIVERS, KCAT];

const FAIL_BOUND_MS = 20_000;
const CONNECT_TIMEOUT_MS = 8_000;

function saslFlags(mechanism: string, user: string, password: string, ca: string): string[] {
  return [
    "--security-protocol",
    "SASL_SSL",
    "--sasl-mechanism",
    mechanism,
    "--sasl-username",
    user,
    "--sasl-password",
    password,
    "--ssl-ca",
    ca,
  ];
}

function sslFlags(c: MatrixCerts): string[] {
  return [
    "--security-protocol",
    "SSL",
    "--ssl-ca",
    c.ca,
    "--ssl-cert",
    c.clientCert,
    "--ssl-key",
    c.clientKey,
  ];
}

/** Produces `count` records to a new topic and consumes them back through the same settings. */
export async function roundTrip(
  d: ClientDriver,
  bootstrap: string,
  flags: string[],
  topic: string,
  count: number,
): Promise<number> {
  const started = Date.now();
  const common = ["--bootstrap", bootstrap, "--topic", topic, ...flags];
  const p = await runAny(d, [
    "produce",
    ...common,
    "--count",
    String(count),
    "--create-partitions",
    "2",
    "--timeout-ms",
    "60000",
  ], 120_000).done;
  assert.equal(
    p.code,
    0,
    `${d.name} produce to ${topic} exited ${p.code}: ${p.stderr.slice(-2000)}`,
  );
  const produced = parseLines<Produced>(p.stdout).records;
  assert.equal(produced.length, count, `${d.name}: acknowledged ${produced.length} of ${count}`);
  const c = await runAny(d, [
    "consume",
    ...common,
    "--count",
    String(count),
    "--timeout-ms",
    "30000",
  ], 60_000).done;
  assert.equal(c.code, 0, `${d.name} consume ${topic} exited ${c.code}: ${c.stderr.slice(-2000)}`);
  assertSameRecords(produced, parseLines<Consumed>(c.stdout).records, `${d.name} ${topic}`);
  return Date.now() - started;
}

/** The driver's error line (CONTRACT.md "Security"), or null. */
function errorLine(stdout: string): { error: string; name: string; message: string } | null {
  for (const line of stdout.split("\n").reverse()) {
    if (line.startsWith('{"error"')) return JSON.parse(line);
  }
  return null;
}

/**
 * Runs one command that must fail: exits non-zero within FAIL_BOUND_MS with an error line whose
 * kind is one of `kinds`. Returns the elapsed time and the line.
 */
export async function mustFail(
  d: ClientDriver,
  bootstrap: string,
  flags: string[],
  kinds: string[],
  what: string,
): Promise<{ ms: number; line: string }> {
  const started = Date.now();
  const r = await runAny(d, [
    "produce",
    "--bootstrap",
    bootstrap,
    "--topic",
    "security-refused",
    "--count",
    "1",
    "--connect-timeout-ms",
    String(CONNECT_TIMEOUT_MS),
    "--timeout-ms",
    "15000",
    ...flags,
  ], FAIL_BOUND_MS + 20_000).done;
  const ms = Date.now() - started;
  const e = errorLine(r.stdout);
  assert.notEqual(r.code, 0, `${d.name} ${what}: the driver succeeded`);
  assert.ok(
    e,
    `${d.name} ${what}: no error line; stdout ${r.stdout} stderr ${r.stderr.slice(-1500)}`,
  );
  assert.ok(
    kinds.includes(e.error),
    `${d.name} ${what}: error kind ${e.error} (${e.name}: ${e.message}), wanted ${kinds.join("|")}`,
  );
  assert.ok(ms <= FAIL_BOUND_MS, `${d.name} ${what}: took ${ms} ms to fail`);
  return { ms, line: `${e.error} ${e.name}: ${e.message.slice(0, 160)}` };
}

/** The successful cases of one driver, each a step; timings go to `timings`. */
export async function successCases(
  t: Deno.TestContext,
  d: ClientDriver,
  target: MatrixTarget,
  count: number,
  timings: Timing[],
  prefix: string,
): Promise<void> {
  const mechanisms = d.name === "kcat" ? KCAT_MECHANISMS : MECHANISMS;
  for (const m of mechanisms) {
    await t.step(`${d.name}: SASL_SSL ${m}, produce and consume ${count}`, async () => {
      const flags = saslFlags(m, target.user, target.password, target.certs.ca);
      const ms = await roundTrip(d, target.saslSsl, flags, `${prefix}-${d.name}-${m}`, count);
      timings.push({ client: d.name, case: `SASL_SSL ${m}`, ms, outcome: `${count} records` });
    });
  }
  await t.step(
    `${d.name}: SSL with a client certificate, produce and consume ${count}`,
    async () => {
      const ms = await roundTrip(
        d,
        target.ssl,
        sslFlags(target.certs),
        `${prefix}-${d.name}-ssl`,
        count,
      );
      timings.push({ client: d.name, case: "SSL mTLS", ms, outcome: `${count} records` });
    },
  );
}

/** The failure cases of one driver, each a step. */
export async function failureCases(
  t: Deno.TestContext,
  d: ClientDriver,
  target: MatrixTarget,
  timings: Timing[],
): Promise<void> {
  const mechanism = d.name === "kcat" ? "PLAIN" : "SCRAM-SHA-512";
  const cases: [string, string, string[], string[]][] = [
    [
      "wrong password",
      target.saslSsl,
      saslFlags(mechanism, target.user, target.password + "-wrong", target.certs.ca),
      ["authentication"],
    ],
    [
      "unknown user",
      target.saslSsl,
      saslFlags(mechanism, "nobody-" + target.user, target.password, target.certs.ca),
      ["authentication"],
    ],
    // The broker's TLS layer hangs up on bytes that are not a TLS handshake.
    ["plaintext client on the TLS port", target.ssl, ["--security-protocol", "PLAINTEXT"], [
      "connection",
      "tls",
    ]],
    // A plaintext broker reads the TLS ClientHello as an oversized request and closes.
    ["TLS client on the plaintext port", target.plaintext, sslFlags(target.certs), [
      "tls",
      "connection",
    ]],
  ];
  for (const [what, bootstrap, flags, kinds] of cases) {
    await t.step(`${d.name}: ${what} fails fast`, async () => {
      const r = await mustFail(d, bootstrap, flags, kinds, what);
      timings.push({ client: d.name, case: what, ms: r.ms, outcome: r.line });
    });
  }
}

/** The timings as a markdown table, for the test's output and the report. */
export function timingTable(timings: Timing[]): string {
  const rows = timings.map((x) =>
    `| ${x.client} | ${x.case} | ${x.ms} | ${x.outcome.replaceAll("|", "/")} |`
  );
  return ["| client | case | ms | outcome |", "|---|---|---|---|", ...rows].join("\n");
}
