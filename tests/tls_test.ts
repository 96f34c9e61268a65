/**
 * Listeners and TLS over real TCP: SSL listeners (node:tls), several
 * listeners at once each advertised to its own clients, mutual TLS with
 * Kafka's default principal (checked against Java's X500Principal on this
 * machine), refused client certificates, certificate reload, the wrong
 * protocol on a port, and librdkafka (kcat) over SSL with and without a
 * client certificate, with a rough throughput figure against PLAINTEXT.
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { spawnBroker, testBroker } from "./broker_util.ts";
import { type ClientCert, makeTestCerts, type TestCerts } from "./certs.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, fetchedRecords, fetchPartition, produceAll, within } from "./helpers.ts";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultDescribeClusterRequest,
  defaultFindCoordinatorRequest,
  defaultMetadataRequest,
  DESCRIBE_CLUSTER_API,
  FIND_COORDINATOR_API,
  METADATA_API,
} from "../protocol/generated/mod.ts";
import { DEFAULT_SECURITY_CONFIG, type Listener } from "../broker/security_config.ts";
import { subjectDn } from "../server/x500.ts";
import { clientChainProblem } from "../server/tls.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";

const read = (f: string) => Deno.readTextFileSync(f);

/** The log lines of the broker at info and above, to check levels. */
const lines: { level: string; text: string }[] = [];

async function captureLogs() {
  await configure({
    sinks: {
      capture: (r: LogRecord) =>
        lines.push({
          level: r.level,
          text: r.message.map((m) => typeof m === "string" ? m : String(m)).join(""),
        }),
    },
    loggers: [
      { category: ["skb"], lowestLevel: "info", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
    reset: true,
  });
}

function listeners(spec: string): Listener[] {
  return spec.split(",").map((s) => {
    const [name, port] = s.split(":");
    return { name, protocol: name as Listener["protocol"], host: "127.0.0.1", port: Number(port) };
  });
}

function security(certs: TestCerts, spec: string, extra: Record<string, unknown> = {}) {
  return {
    ...DEFAULT_SECURITY_CONFIG,
    listeners: listeners(spec),
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: null },
    ...extra,
  };
}

async function tlsClient(port: number, certs: TestCerts, client?: ClientCert) {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [read(certs.caCertFile)],
    ...(client ? { cert: read(client.chainFile), key: read(client.keyFile) } : {}),
  });
  await conn.handshake();
  return WireClient.over(conn);
}

/** The fingerprint of the certificate a new TLS connection to `port` is served. */
async function servedFingerprint(
  port: number,
  certs: TestCerts,
  client?: ClientCert,
): Promise<string> {
  const s = tls.connect({
    host: "127.0.0.1",
    port,
    ca: read(certs.caCertFile),
    servername: "localhost",
    ...(client ? { cert: read(client.chainFile), key: read(client.keyFile) } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      s.once("secureConnect", () => resolve());
      s.once("error", reject);
    });
    return new X509Certificate(s.getPeerCertificate().raw).fingerprint256;
  } finally {
    s.destroy();
  }
}

async function metadataBrokers(c: WireClient) {
  const md = await within(
    c.call(METADATA_API, 12, { ...defaultMetadataRequest(), topics: null }),
    10_000,
    "metadata",
  );
  return md.brokers.map((b) => `${b.host}:${b.port}`);
}

async function produceAndFetch(c: WireClient, topic: string) {
  const id = await createTopic(c, topic, 1);
  const produced = await produceAll(c, topic, 1, 0, 10);
  assert.equal(produced[0].errorCode, 0);
  const p = await fetchPartition(c, { name: topic, id }, 0, 0);
  assert.equal(p.errorCode, 0);
  const got = fetchedRecords(p);
  assert.equal(got.length, 10);
  assert.deepEqual(got[9], [9, "k9", "v9"]);
}

/** CreateTopics as the connection's principal; its error code. */
async function tryCreate(c: WireClient, name: string): Promise<number> {
  const req = defaultCreateTopicsRequest();
  req.timeoutMs = 5000;
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: 1,
    replicationFactor: -1,
  }];
  return (await within(c.call(CREATE_TOPICS_API, 7, req), 10_000, "create")).topics[0].errorCode;
}

/** Whether the broker ends a TLS connection (a refused client certificate) within 5 s. */
async function refused(port: number, certs: TestCerts, client?: ClientCert): Promise<boolean> {
  let c: WireClient;
  try {
    c = await tlsClient(port, certs, client);
  } catch {
    return true; // The handshake itself failed.
  }
  try {
    await within(
      c.call(METADATA_API, 12, { ...defaultMetadataRequest(), topics: null }),
      5000,
      "md",
    );
    return false;
  } catch {
    return true;
  } finally {
    await c[Symbol.asyncDispose]();
  }
}

/** Subject DNs as Java 17's X500Principal.getName() renders them (java on PATH). */
async function javaNames(files: string[]): Promise<string[]> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/Dn.java`,
      `import java.security.cert.*; import java.io.*;
public class Dn { public static void main(String[] a) throws Exception {
  CertificateFactory f = CertificateFactory.getInstance("X.509");
  PrintStream out = new PrintStream(System.out, true, "UTF-8");
  for (String p : a) out.println(((X509Certificate) f.generateCertificate(new FileInputStream(p))).getSubjectX500Principal().getName()); } }`,
    );
    const out = await new Deno.Command("java", {
      args: [`${dir}/Dn.java`, ...files],
      stdout: "piped",
    })
      .output();
    assert.ok(out.success, "java Dn.java failed");
    return new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("TLS listeners", async (t) => {
  await captureLogs();
  const certs = await makeTestCerts({
    alice: "/C=US/O=acme/CN=alice",
    bob: "/CN=bob/O=acme",
    odd: '/C=US/O=acme, inc/CN=al=ice+UID=a1/OU=a;b<c>"d\\\\e/CN=#x y /emailAddress=a@b.c/L=Zürich',
  });
  try {
    await t.step("the principal is Java's X500Principal.getName()", async () => {
      const clients = Object.values(certs.clients);
      const java = await javaNames(clients.map((c) => c.certFile));
      assert.equal(java[0], "CN=alice,O=acme,C=US");
      for (const [i, c] of clients.entries()) {
        assert.equal(subjectDn(new Uint8Array(new X509Certificate(read(c.certFile)).raw)), java[i]);
      }
    });

    await t.step("produce and fetch over SSL", async () => {
      await using broker = await testBroker({ security: security(certs, "SSL:0") });
      assert.equal(broker.listeners.length, 1);
      assert.equal(broker.listeners[0].name, "SSL");
      assert.equal(broker.port, broker.listeners[0].port);
      await using c = await tlsClient(broker.port, certs);
      await produceAndFetch(c, "over-ssl");
    });

    await t.step("PLAINTEXT and SSL at once, each advertised to its own clients", async () => {
      await using broker = await testBroker({
        security: security(certs, "PLAINTEXT:0,SSL:0", {
          advertisedListeners: [{
            name: "SSL",
            protocol: "SSL",
            host: "kafka.example",
            port: 19093,
          }],
        }),
        advertisedHost: "plain.example",
        advertisedPort: 19092,
      });
      const [plain, ssl] = broker.listeners;
      assert.deepEqual([plain.name, ssl.name], ["PLAINTEXT", "SSL"]);
      assert.notEqual(plain.port, ssl.port);
      await using p = await WireClient.connect(plain.port);
      await using s = await tlsClient(ssl.port, certs);
      assert.deepEqual(await metadataBrokers(p), ["plain.example:19092"]);
      assert.deepEqual(await metadataBrokers(s), ["kafka.example:19093"]);
      const find = { ...defaultFindCoordinatorRequest(), keyType: 0, coordinatorKeys: ["g"] };
      const fc = await s.call(FIND_COORDINATOR_API, 4, find);
      assert.deepEqual([fc.coordinators[0].host, fc.coordinators[0].port], [
        "kafka.example",
        19093,
      ]);
      const dc = await s.call(DESCRIBE_CLUSTER_API, 0, defaultDescribeClusterRequest());
      assert.deepEqual(dc.brokers.map((b) => `${b.host}:${b.port}`), ["kafka.example:19093"]);
      // The same data on both listeners.
      await produceAndFetch(p, "both");
      const md = await s.call(METADATA_API, 12, {
        ...defaultMetadataRequest(),
        topics: [{ name: "both", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      });
      assert.equal(md.topics[0].errorCode, 0);
    });

    await t.step("without advertised listeners each client gets the address it used", async () => {
      await using broker = await testBroker({ security: security(certs, "PLAINTEXT:0,SSL:0") });
      const [plain, ssl] = broker.listeners;
      await using p = await WireClient.connect(plain.port);
      await using s = await tlsClient(ssl.port, certs);
      assert.deepEqual(await metadataBrokers(p), [`127.0.0.1:${plain.port}`]);
      assert.deepEqual(await metadataBrokers(s), [`127.0.0.1:${ssl.port}`]);
    });

    await t.step("mutual TLS: the principal, a wrong CA and no certificate", async () => {
      lines.length = 0;
      await using broker = await testBroker({
        security: security(certs, "SSL:0", {
          tls: {
            certFile: certs.serverCertFile,
            keyFile: certs.serverKeyFile,
            clientCaFile: certs.caCertFile,
          },
          authorizer: "acl",
          superUsers: ["User:CN=alice,O=acme,C=US"],
        }),
      });
      // Only the exact principal string is a super user.
      await using alice = await tlsClient(broker.port, certs, certs.clients.alice);
      assert.equal(await tryCreate(alice, "alices"), 0);
      await using bob = await tlsClient(broker.port, certs, certs.clients.bob);
      assert.equal(await tryCreate(bob, "bobs"), 29); // TOPIC_AUTHORIZATION_FAILED
      // Through an intermediate the client sends along.
      assert.ok(
        !(await refused(broker.port, certs, certs.intermediateClient)),
        "via an intermediate",
      );
      assert.ok(
        await refused(broker.port, certs, certs.otherClient),
        "a certificate of another CA",
      );
      assert.ok(await refused(broker.port, certs), "no certificate");
      // Alice's connection is untouched.
      await produceAll(alice, "alices", 1, 0, 3);
      const closes = lines.filter((l) => l.text.includes("Closing TLS connection"));
      assert.equal(closes.length, 2, JSON.stringify(lines));
      assert.ok(closes.every((l) => l.level === "info"));
      assert.ok(
        closes[0].text.includes("was not issued by a CA in --tls-client-ca"),
        closes[0].text,
      );
      assert.ok(closes[1].text.includes("presented no certificate"), closes[1].text);
    });

    await t.step("client certificates outside their validity dates are refused", () => {
      const ca = new X509Certificate(read(certs.caCertFile));
      const leaf = new X509Certificate(read(certs.clients.alice.certFile));
      assert.equal(clientChainProblem([leaf], [ca]), null);
      const later = Date.now() + 400 * 86_400_000;
      assert.match(clientChainProblem([leaf], [ca], later)!, /outside its validity dates/);
      assert.match(
        clientChainProblem([leaf], [ca], Date.now() - 86_400_000)!,
        /outside its validity/,
      );
      // An intermediate is only used when the client sends it.
      const carol = new X509Certificate(read(certs.intermediateClient.certFile));
      const chain = read(certs.intermediateClient.chainFile).match(
        /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g,
      )!.map((p) => new X509Certificate(p));
      assert.equal(chain.length, 2);
      assert.match(clientChainProblem([carol], [ca])!, /was not issued by a CA/);
      assert.equal(clientChainProblem(chain, [ca]), null);
    });

    await t.step(
      "the addressable shape lists each broker's endpoint on the client's listener",
      async () => {
        const dir = await Deno.makeTempDir();
        try {
          const shared = { clusterShape: "addressable" as const, log: new MemoryLogStore() };
          await using a = await testBroker({
            ...shared,
            meta: new SqliteMetaStore(`${dir}/meta.db`),
            nodeId: 1,
            security: security(certs, "PLAINTEXT:0,SSL:0", {
              advertisedListeners: [
                { name: "PLAINTEXT", protocol: "PLAINTEXT", host: "a.plain", port: 9092 },
                { name: "SSL", protocol: "SSL", host: "a.ssl", port: 9093 },
              ],
            }),
          });
          await using b = await testBroker({
            ...shared,
            meta: new SqliteMetaStore(`${dir}/meta.db`),
            nodeId: 2,
            advertisedHost: "b.plain",
            advertisedPort: 9192,
          });
          // b registered last and so has read both.
          await using bc = await WireClient.connect(b.port);
          assert.deepEqual(await metadataBrokers(bc), ["a.plain:9092", "b.plain:9192"]);
          // a reads b at its next renewal (every 3 s).
          await using ap = await WireClient.connect(a.listeners[0].port);
          let seen: string[] = [];
          for (let i = 0; i < 60 && seen.length < 2; i++) {
            seen = await metadataBrokers(ap);
            if (seen.length < 2) await new Promise((r) => setTimeout(r, 100));
          }
          assert.deepEqual(seen, ["a.plain:9092", "b.plain:9192"]);
          // b has no SSL listener, so SSL clients of a are not sent there.
          await using as = await tlsClient(a.listeners[1].port, certs);
          assert.deepEqual(await metadataBrokers(as), ["a.ssl:9093"]);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );

    await t.step(
      "reload: a new connection gets the new certificate, a bad pair keeps the old",
      async () => {
        const dir = await Deno.makeTempDir();
        try {
          const certFile = `${dir}/tls.crt`, keyFile = `${dir}/tls.key`;
          await Deno.copyFile(certs.serverCertFile, certFile);
          await Deno.copyFile(certs.serverKeyFile, keyFile);
          await using broker = await testBroker({
            security: security(certs, "SSL:0", { tls: { certFile, keyFile, clientCaFile: null } }),
            tlsPollMs: 100,
          });
          const old = new X509Certificate(read(certs.serverCertFile)).fingerprint256;
          assert.equal(await servedFingerprint(broker.port, certs), old);
          await using live = await tlsClient(broker.port, certs);
          // Rotated as cert-manager does: both files replaced.
          const next = await certs.newServerCert("rotated");
          await Deno.writeTextFile(keyFile, read(next.keyFile));
          await Deno.writeTextFile(certFile, read(next.certFile));
          const want = new X509Certificate(read(next.certFile)).fingerprint256;
          let got = "";
          for (let i = 0; i < 50 && got !== want; i++) {
            await new Promise((r) => setTimeout(r, 100));
            got = await servedFingerprint(broker.port, certs);
          }
          assert.equal(got, want);
          // The connection opened before is untouched.
          assert.ok((await metadataBrokers(live)).length === 1);
          // A key that is not the certificate's: warned, the last good pair stays.
          lines.length = 0;
          await Deno.writeTextFile(keyFile, read(certs.serverKeyFile));
          for (let i = 0; i < 50 && !lines.some((l) => l.level === "warning"); i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          const warning = lines.find((l) => l.level === "warning");
          assert.ok(warning?.text.includes(`--tls-key ${keyFile}`), JSON.stringify(lines));
          assert.equal(await servedFingerprint(broker.port, certs), want);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );

    await t.step(
      "reload under mutual TLS: the new certificate, client certificates still required",
      async () => {
        const dir = await Deno.makeTempDir();
        try {
          const certFile = `${dir}/tls.crt`, keyFile = `${dir}/tls.key`;
          await Deno.copyFile(certs.serverCertFile, certFile);
          await Deno.copyFile(certs.serverKeyFile, keyFile);
          await using broker = await testBroker({
            security: security(certs, "SSL:0", {
              tls: { certFile, keyFile, clientCaFile: certs.caCertFile },
            }),
            tlsPollMs: 100,
          });
          const next = await certs.newServerCert("rotated-mtls");
          await Deno.writeTextFile(keyFile, read(next.keyFile));
          await Deno.writeTextFile(certFile, read(next.certFile));
          const want = new X509Certificate(read(next.certFile)).fingerprint256;
          let got = "";
          for (let i = 0; i < 50 && got !== want; i++) {
            await new Promise((r) => setTimeout(r, 100));
            got = await servedFingerprint(broker.port, certs, certs.clients.alice);
          }
          assert.equal(got, want);
          // The new secure context still asks for and checks client certificates.
          assert.ok(await refused(broker.port, certs), "no certificate after the reload");
          assert.ok(await refused(broker.port, certs, certs.otherClient), "another CA's");
          await using alice = await tlsClient(broker.port, certs, certs.clients.alice);
          assert.equal((await metadataBrokers(alice)).length, 1);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );

    await t.step("a missing or bad file at start names the flag and the file", async () => {
      await assert.rejects(
        testBroker({
          security: security(certs, "SSL:0", {
            tls: {
              certFile: "/nonexistent/tls.crt",
              keyFile: certs.serverKeyFile,
              clientCaFile: null,
            },
          }),
        }),
        /--tls-cert \/nonexistent\/tls\.crt cannot be read/,
      );
      await assert.rejects(
        testBroker({
          security: security(certs, "SSL:0", {
            tls: { certFile: certs.serverCertFile, keyFile: certs.caKeyFile, clientCaFile: null },
          }),
        }),
        /--tls-key .*ca\.key is not the key of the certificate in --tls-cert/,
      );
      await assert.rejects(
        testBroker({
          security: security(certs, "SSL:0", {
            tls: {
              certFile: certs.serverCertFile,
              keyFile: certs.serverKeyFile,
              clientCaFile: certs.serverKeyFile,
            },
          }),
        }),
        /--tls-client-ca .*server\.key holds no PEM certificate/,
      );
    });

    await t.step("the wrong protocol on a port is closed fast; other clients go on", async () => {
      lines.length = 0;
      await using broker = await testBroker({ security: security(certs, "PLAINTEXT:0,SSL:0") });
      const [plain, ssl] = broker.listeners;
      await using good = await tlsClient(ssl.port, certs);
      await using goodPlain = await WireClient.connect(plain.port);
      // A plaintext Kafka client on the TLS port.
      const t0 = Date.now();
      await using wrong = await WireClient.connect(ssl.port);
      await wrong.send(METADATA_API, 12, { ...defaultMetadataRequest(), topics: null });
      assert.ok(await wrong.closedByPeer(3000), "plaintext on the TLS port closed");
      // A TLS client on the plaintext port.
      await assert.rejects(
        within(
          Deno.connectTls({
            hostname: "127.0.0.1",
            port: plain.port,
            caCerts: [read(certs.caCertFile)],
          })
            .then((c) => c.handshake().finally(() => c.close())),
          3000,
          "tls on plaintext",
        ),
      );
      assert.ok(Date.now() - t0 < 3000, `closed in ${Date.now() - t0} ms`);
      assert.equal((await metadataBrokers(good)).length, 1);
      assert.equal((await metadataBrokers(goodPlain)).length, 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(lines.some((l) => l.text.includes("TLS handshake failed")), JSON.stringify(lines));
      assert.ok(lines.some((l) => l.text.includes("Frame length")), JSON.stringify(lines));
      assert.deepEqual(lines.filter((l) => l.level === "error" || l.level === "fatal"), []);
    });

    await t.step(
      "main.ts: a line per listener; a bad TLS file fails naming flag and file",
      async () => {
        await using proc = await spawnBroker([
          "--meta",
          "memory:",
          "--log",
          "memory:",
          "--listeners",
          "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
          "--tls-cert",
          certs.serverCertFile,
          "--tls-key",
          certs.serverKeyFile,
        ]);
        let m: RegExpExecArray | null = null;
        for (let i = 0; i < 50 && m === null; i++) {
          m = /listener PLAINTEXT on 127\.0\.0\.1:(\d+)\n.*listener SSL on 127\.0\.0\.1:(\d+)/
            .exec(proc.output());
          if (m === null) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(m, proc.output());
        assert.equal(Number(m[1]), proc.port);
        await using s = await tlsClient(Number(m[2]), certs);
        assert.deepEqual(await metadataBrokers(s), [`127.0.0.1:${m[2]}`]);
        assert.equal((await proc.stop()).code, 0);
        const bad = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            new URL("../main.ts", import.meta.url).pathname,
            "--meta",
            "memory:",
            "--log",
            "memory:",
            "--listeners",
            "SSL://127.0.0.1:0",
            "--tls-cert",
            certs.serverCertFile,
            "--tls-key",
            `${certs.dir}/missing.key`,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.notEqual(bad.code, 0);
        const err = new TextDecoder().decode(bad.stderr) + new TextDecoder().decode(bad.stdout);
        assert.ok(err.includes(`--tls-key ${certs.dir}/missing.key cannot be read`), err);
      },
    );

    await t.step("kcat over SSL, with and without a client certificate; throughput", async () => {
      await using broker = await testBroker({
        security: security(certs, "PLAINTEXT:0,SSL:0"),
      });
      const [plain, ssl] = broker.listeners;
      await using mtls = await testBroker({
        security: security(certs, "SSL:0", {
          tls: {
            certFile: certs.serverCertFile,
            keyFile: certs.serverKeyFile,
            clientCaFile: certs.caCertFile,
          },
        }),
      });
      const sslArgs = ["-X", "security.protocol=ssl", "-X", `ssl.ca.location=${certs.caCertFile}`];
      const alice = certs.clients.alice;
      const clientArgs = [
        "-X",
        `ssl.certificate.location=${alice.certFile}`,
        "-X",
        `ssl.key.location=${alice.keyFile}`,
      ];
      const figures: string[] = [];
      for (
        const [label, port, extra, n] of [
          ["PLAINTEXT", plain.port, [], 1000],
          ["SSL", ssl.port, sslArgs, 1000],
          ["mTLS", mtls.port, [...sslArgs, ...clientArgs], 1000],
          ["PLAINTEXT 100k", plain.port, [], 100_000],
          ["SSL 100k", ssl.port, sslArgs, 100_000],
        ] as [string, number, string[], number][]
      ) {
        const topic = `kcat-${label.replace(/\W/g, "")}`;
        const value = "x".repeat(100);
        const input = Array.from({ length: n }, (_, i) => `${i}:${value}`).join("\n") + "\n";
        const t0 = performance.now();
        const prod = new Deno.Command("kcat", {
          args: ["-b", `127.0.0.1:${port}`, "-P", "-t", topic, "-K", ":", ...extra],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const w = prod.stdin.getWriter();
        await w.write(new TextEncoder().encode(input));
        await w.close();
        const pr = await within(prod.output(), 120_000, `kcat produce ${label}`);
        assert.ok(pr.success, `kcat produce ${label}: ${new TextDecoder().decode(pr.stderr)}`);
        const t1 = performance.now();
        const cons = await within(
          new Deno.Command("kcat", {
            args: [
              "-b",
              `127.0.0.1:${port}`,
              "-C",
              "-t",
              topic,
              "-o",
              "beginning",
              "-e",
              "-q",
              "-c",
              String(n),
              "-f",
              "%k\n",
              ...extra,
            ],
            stdout: "piped",
            stderr: "piped",
          }).output(),
          120_000,
          `kcat consume ${label}`,
        );
        const t2 = performance.now();
        assert.ok(cons.success, `kcat consume ${label}: ${new TextDecoder().decode(cons.stderr)}`);
        const keys = new TextDecoder().decode(cons.stdout).trimEnd().split("\n");
        assert.equal(keys.length, n, label);
        assert.equal(keys[n - 1], String(n - 1));
        const mb = (n * 100) / 1e6;
        figures.push(
          `${label}: produce ${(t1 - t0).toFixed(0)} ms (${
            (mb / ((t1 - t0) / 1000)).toFixed(1)
          } MB/s), consume ${(t2 - t1).toFixed(0)} ms (${
            (mb / ((t2 - t1) / 1000)).toFixed(1)
          } MB/s)`,
        );
      }
      console.log(figures.join("\n"));
      // Without a client certificate the mTLS broker refuses kcat.
      const noCert = await new Deno.Command("kcat", {
        args: ["-b", `127.0.0.1:${mtls.port}`, "-L", "-m", "3", ...sslArgs],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(!noCert.success, "kcat without a client certificate is refused");
    });
  } finally {
    await certs.cleanup();
    await reset();
  }
});
