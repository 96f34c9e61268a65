/**
 * SASL over real TCP (issue 13 part B): PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
 * against credentials in the meta store, Kafka's authentication state machine
 * (KIP-43, KIP-152), its failures and their delay (KIP-306), SCRAM credential
 * APIs (KIP-554), re-authentication (KIP-368), and two brokers sharing one
 * SQLite meta store.
 */

import assert from "node:assert/strict";
import {
  ALTER_USER_SCRAM_CREDENTIALS_API,
  DESCRIBE_USER_SCRAM_CREDENTIALS_API,
  METADATA_API,
  SASL_AUTHENTICATE_API,
  SASL_HANDSHAKE_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { WireClient } from "./wire_client.ts";
import { saslBroker } from "./sasl_broker.ts";
import {
  apiVersions,
  authenticate,
  handshake,
  plainLogin,
  salted,
  scramLogin,
} from "./sasl_client.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { within } from "./helpers.ts";
import { makeTestCerts } from "./certs.ts";
import { DEFAULT_SECURITY_CONFIG } from "../broker/security_config.ts";

const USERS = [{ name: "alice", password: "alice-secret" }, { name: "b,o=b", password: "pw-2" }];
const FAILED = (m: string) =>
  `Authentication failed during authentication due to invalid credentials with SASL mechanism ${m}`;

const metadataReq = {
  topics: [],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

Deno.test("SASL: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 authenticate --sasl-users; the principal is the user", async () => {
  await using b = await saslBroker({ saslUsers: USERS });
  for (const m of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    for (const u of USERS) {
      await using c = await WireClient.connect(b.saslPort);
      const av = await apiVersions(c);
      assert.ok(
        av.apiKeys.some((k) => k.apiKey === 17 && k.minVersion === 0 && k.maxVersion === 1),
      );
      assert.ok(av.apiKeys.some((k) => k.apiKey === 36 && k.maxVersion === 2));
      const r = m === "PLAIN"
        ? await plainLogin(c, u.name, u.password)
        : await scramLogin(c, m, u.name, u.password);
      assert.equal(r.errorCode, 0, `${m} ${u.name}: ${r.errorMessage}`);
      assert.equal(r.sessionLifetimeMs, 0);
      const md = await c.call(METADATA_API, 12, metadataReq);
      assert.equal(md.brokers.length, 1);
    }
  }
  // PLAIN with the user as authzid is the same user.
  await using c = await WireClient.connect(b.saslPort);
  assert.equal((await plainLogin(c, "alice", "alice-secret", "alice")).errorCode, 0);
});

Deno.test("SASL: every failure answers SASL_AUTHENTICATION_FAILED with one message after the delay, then closes", async () => {
  await using b = await saslBroker({ saslUsers: USERS });
  const cases: [
    string,
    string,
    (c: WireClient) => Promise<{ errorCode: number; errorMessage: string | null }>,
  ][] = [
    ["PLAIN", "wrong password", (c) => plainLogin(c, "alice", "nope")],
    ["PLAIN", "unknown user", (c) => plainLogin(c, "mallory", "alice-secret")],
    ["PLAIN", "other authzid", (c) => plainLogin(c, "alice", "alice-secret", "b,o=b")],
    ["PLAIN", "two tokens", async (c) => {
      await handshake(c, "PLAIN");
      return authenticate(c, new TextEncoder().encode("alice\u0000alice-secret"));
    }],
    ["SCRAM-SHA-256", "wrong password", (c) => scramLogin(c, "SCRAM-SHA-256", "alice", "x")],
    ["SCRAM-SHA-512", "unknown user", (c) => scramLogin(c, "SCRAM-SHA-512", "mallory", "x")],
    [
      "SCRAM-SHA-512",
      "bad proof",
      (c) => scramLogin(c, "SCRAM-SHA-512", "alice", "alice-secret", { badProof: true }),
    ],
    ["SCRAM-SHA-256", "final first", async (c) => {
      await handshake(c, "SCRAM-SHA-256");
      return authenticate(c, new TextEncoder().encode("c=biws,r=abc,p=AAAA"));
    }],
    ["SCRAM-SHA-256", "channel binding", async (c) => {
      await handshake(c, "SCRAM-SHA-256");
      return authenticate(c, new TextEncoder().encode("y,,n=alice,r=abc"));
    }],
    ["SCRAM-SHA-256", "bad escape", async (c) => {
      await handshake(c, "SCRAM-SHA-256");
      return authenticate(c, new TextEncoder().encode("n,,n=al=41ice,r=abc"));
    }],
  ];
  for (const [m, what, run] of cases) {
    await using c = await WireClient.connect(b.saslPort);
    const t0 = performance.now();
    const r = await run(c);
    const ms = performance.now() - t0;
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, `${m} ${what}`);
    assert.equal(r.errorMessage, FAILED(m), `${m} ${what}`);
    assert.ok(ms >= 95, `${m} ${what}: answered after ${ms} ms`);
    assert.ok(!r.errorMessage!.includes("secret"));
    assert.ok(await c.closedByPeer(), `${m} ${what}: connection stays open`);
  }
});

Deno.test("SASL: before authentication only ApiVersions, SaslHandshake, SaslAuthenticate in order; others close", async () => {
  await using b = await saslBroker({
    saslUsers: USERS,
    saslMechanisms: ["SCRAM-SHA-512", "PLAIN"],
  });
  {
    await using c = await WireClient.connect(b.saslPort);
    await c.send(METADATA_API, 12, metadataReq);
    assert.equal(await c.readFrame(), null, "Metadata before authentication is answered");
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    await apiVersions(c);
    await c.send(SASL_AUTHENTICATE_API, 2, { authBytes: new Uint8Array(3) });
    assert.equal(await c.readFrame(), null, "SaslAuthenticate before SaslHandshake is answered");
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    await handshake(c, "PLAIN");
    await c.send(METADATA_API, 12, metadataReq);
    assert.equal(await c.readFrame(), null, "Metadata between handshake and authenticate");
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    const hs = await handshake(c, "SCRAM-SHA-256");
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(hs.mechanisms, ["SCRAM-SHA-512", "PLAIN"]);
    assert.ok(await c.closedByPeer());
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    const hs = await handshake(c, "OAUTHBEARER");
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  }
  {
    // Authenticated: a second handshake without re-authentication is ILLEGAL_SASL_STATE.
    await using c = await WireClient.connect(b.saslPort);
    assert.equal((await plainLogin(c, "alice", "alice-secret")).errorCode, 0);
    assert.equal((await handshake(c, "PLAIN")).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    const again = await authenticate(c, new Uint8Array(0));
    assert.equal(again.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers.length, 1);
  }
  {
    // PLAINTEXT: the SASL APIs are ILLEGAL_SASL_STATE, everything else served.
    await using c = await WireClient.connect(b.port);
    assert.equal((await handshake(c, "PLAIN")).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.equal(
      (await authenticate(c, new Uint8Array(0))).errorCode,
      ErrorCode.ILLEGAL_SASL_STATE,
    );
  }
});

Deno.test("SASL: truncated and oversized SaslAuthenticate close the connection", async () => {
  await using b = await saslBroker({ saslUsers: USERS });
  {
    await using c = await WireClient.connect(b.saslPort);
    await handshake(c, "SCRAM-SHA-512");
    // A SaslAuthenticate v2 header with a compact bytes length longer than the frame.
    const frame = new Uint8Array([0, 0, 0, 14, 0, 36, 0, 2, 0, 0, 0, 9, 0, 1, 0x61, 0, 0x7f, 1]);
    await c.sendRaw(frame);
    assert.equal(await c.readFrame(), null);
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    await handshake(c, "SCRAM-SHA-512");
    const big = new Uint8Array(8);
    new DataView(big.buffer).setInt32(0, 524288 + 1);
    big.set([0, 36, 0, 2], 4);
    await c.sendRaw(big);
    assert.equal(await c.readFrame(), null);
  }
});

Deno.test("SASL: 500 failed logins are slowed and bounded while an authenticated client keeps working", async () => {
  await using b = await saslBroker({ saslUsers: USERS });
  await using good = await WireClient.connect(b.saslPort);
  assert.equal((await scramLogin(good, "SCRAM-SHA-512", "alice", "alice-secret")).errorCode, 0);
  let failures = 0;
  let worstMetadataMs = 0;
  const t0 = performance.now();
  const attacker = async () => {
    for (let i = 0; i < 10; i++) {
      await using c = await WireClient.connect(b.saslPort);
      const r = await plainLogin(c, "alice", `wrong-${i}`);
      if (r.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED) failures++;
    }
  };
  const attackers = Promise.all(Array.from({ length: 50 }, attacker));
  let done = false;
  attackers.finally(() => done = true);
  let served = 0;
  while (!done && performance.now() - t0 < 120_000) {
    const s = performance.now();
    await good.call(METADATA_API, 12, metadataReq);
    worstMetadataMs = Math.max(worstMetadataMs, performance.now() - s);
    served++;
    await new Promise((r) => setTimeout(r, 20));
  }
  await attackers;
  const totalMs = performance.now() - t0;
  console.log(
    `500 failed logins in ${Math.round(totalMs)} ms; ${served} Metadata calls meanwhile, worst ${
      Math.round(worstMetadataMs)
    } ms`,
  );
  assert.equal(failures, 500);
  assert.ok(served > 10);
  assert.ok(worstMetadataMs < 1000, `Metadata took ${worstMetadataMs} ms`);
  // 50 at a time, at least 100 ms each and slower once the address keeps failing.
  assert.ok(totalMs > 10 * 100 * 2, `500 failures took only ${totalMs} ms`);
});

Deno.test("SCRAM credentials: Describe and Alter with Kafka's codes; a user created on one broker logs in on another sharing SQLite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skb-sasl-" });
  try {
    const path = `${dir}/meta.db`;
    await using b1 = await saslBroker({}, {
      meta: new SqliteMetaStore(path),
      log: new MemoryLogStore(),
    });
    await using b2 = await saslBroker({}, {
      meta: new SqliteMetaStore(path),
      log: new MemoryLogStore(),
    });
    await using admin = await WireClient.connect(b1.port);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const up = async (
      name: string,
      mechanism: number,
      iterations: number,
      password = "carol-pw",
    ) => ({
      name,
      mechanism,
      iterations,
      salt,
      saltedPassword: await salted(
        mechanism === 1 ? "SCRAM-SHA-256" : "SCRAM-SHA-512",
        password,
        salt,
        iterations,
      ),
    });
    const alter = await admin.call(ALTER_USER_SCRAM_CREDENTIALS_API, 0, {
      deletions: [{ name: "nobody", mechanism: 1 }],
      upsertions: [
        await up("carol", 2, 8192),
        await up("few", 1, 4095),
        await up("many", 1, 16385),
        await up("", 1, 4096),
        await up("odd", 3, 4096),
        await up("dave", 1, 4096),
        await up("dave", 2, 4096),
      ],
    });
    const byUser = new Map(alter.results.map((r) => [r.user, r]));
    assert.equal(byUser.get("carol")!.errorCode, 0);
    assert.deepEqual(
      [byUser.get("nobody")!.errorCode, byUser.get("nobody")!.errorMessage],
      [ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"],
    );
    assert.deepEqual([byUser.get("few")!.errorCode, byUser.get("few")!.errorMessage], [
      ErrorCode.UNACCEPTABLE_CREDENTIAL,
      "Too few iterations",
    ]);
    assert.equal(byUser.get("many")!.errorMessage, "Too many iterations");
    assert.deepEqual([byUser.get("")!.errorCode, byUser.get("")!.errorMessage], [
      ErrorCode.UNACCEPTABLE_CREDENTIAL,
      "Username must not be empty",
    ]);
    assert.equal(byUser.get("odd")!.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.equal(byUser.get("dave")!.errorCode, ErrorCode.DUPLICATE_RESOURCE);
    assert.equal(alter.results.length, 7);

    const all = await admin.call(DESCRIBE_USER_SCRAM_CREDENTIALS_API, 0, { users: null });
    assert.deepEqual(all.results.map((r) => [r.user, r.credentialInfos]), [[
      "carol",
      [{ mechanism: 2, iterations: 8192 }],
    ]]);
    const some = await admin.call(DESCRIBE_USER_SCRAM_CREDENTIALS_API, 0, {
      users: [{ name: "carol" }, { name: "zed" }, { name: "x" }, { name: "x" }],
    });
    assert.deepEqual(some.results.map((r) => [r.user, r.errorCode]), [
      ["carol", 0],
      ["zed", ErrorCode.RESOURCE_NOT_FOUND],
      ["x", ErrorCode.DUPLICATE_RESOURCE],
    ]);

    // The second broker authenticates carol at once, with SCRAM-SHA-512 and PLAIN.
    for (const b of [b2, b1]) {
      await using c = await WireClient.connect(b.saslPort);
      assert.equal((await scramLogin(c, "SCRAM-SHA-512", "carol", "carol-pw")).errorCode, 0);
      await using p = await WireClient.connect(b.saslPort);
      assert.equal((await plainLogin(p, "carol", "carol-pw")).errorCode, 0);
      await using s = await WireClient.connect(b.saslPort);
      const r = await scramLogin(s, "SCRAM-SHA-256", "carol", "carol-pw");
      assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, "no SHA-256 credential");
    }
    // Deleted on the second broker: the first refuses it.
    const del = await (await WireClient.connect(b2.port)).call(
      ALTER_USER_SCRAM_CREDENTIALS_API,
      0,
      {
        deletions: [{ name: "carol", mechanism: 2 }],
        upsertions: [],
      },
    );
    assert.equal(del.results[0].errorCode, 0);
    await using c = await WireClient.connect(b1.saslPort);
    assert.equal(
      (await scramLogin(c, "SCRAM-SHA-512", "carol", "carol-pw")).errorCode,
      ErrorCode.SASL_AUTHENTICATION_FAILED,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("SASL re-authentication (KIP-368): session lifetime, same principal and mechanism, expired sessions closed", async () => {
  await using b = await saslBroker({ saslUsers: USERS, connectionsMaxReauthMs: 1500 });
  {
    await using c = await WireClient.connect(b.saslPort);
    const r = await scramLogin(c, "SCRAM-SHA-256", "alice", "alice-secret");
    assert.equal(r.errorCode, 0);
    assert.ok(r.sessionLifetimeMs > 1400 && r.sessionLifetimeMs <= 1500, `${r.sessionLifetimeMs}`);
    // Re-authenticate with other requests in between: they are served meanwhile.
    assert.equal((await handshake(c, "SCRAM-SHA-256")).errorCode, 0);
    assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers.length, 1);
    // The re-authentication's client-first is answered...
    const enc = new TextEncoder();
    const first = await authenticate(c, enc.encode("n,,n=alice,r=abcdef"));
    assert.equal(first.errorCode, 0);
    // ...and a malformed client-final fails it, which closes the connection.
    await c.send(SASL_AUTHENTICATE_API, 2, { authBytes: enc.encode("garbage") });
    const bad = await c.receive(SASL_AUTHENTICATE_API, 2);
    assert.equal(bad.body.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.ok(await c.closedByPeer());
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    assert.equal((await scramLogin(c, "SCRAM-SHA-256", "alice", "alice-secret")).errorCode, 0);
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const again = await scramLogin(c, "SCRAM-SHA-256", "alice", "alice-secret");
      assert.equal(again.errorCode, 0);
      assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers.length, 1);
    }
    await new Promise((r) => setTimeout(r, 1700));
    await c.send(METADATA_API, 12, metadataReq);
    assert.equal(await c.readFrame(), null, "an expired session is served");
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    assert.equal((await plainLogin(c, "alice", "alice-secret")).errorCode, 0);
    const r = await plainLogin(c, "b,o=b", "pw-2");
    assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, "principal changed");
    assert.ok(await c.closedByPeer());
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    assert.equal((await plainLogin(c, "alice", "alice-secret")).errorCode, 0);
    const hs = await handshake(c, "SCRAM-SHA-512");
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM, "mechanism changed");
    assert.ok(await c.closedByPeer());
  }
});

Deno.test("SASL: SaslHandshake v0 is followed by raw length-prefixed tokens (KIP-43)", async () => {
  await using b = await saslBroker({ saslUsers: USERS });
  const raw = (s: string) => {
    const t = new TextEncoder().encode(s);
    const out = new Uint8Array(4 + t.length);
    new DataView(out.buffer).setInt32(0, t.length);
    out.set(t, 4);
    return out;
  };
  {
    await using c = await WireClient.connect(b.saslPort);
    const hs = await c.call(SASL_HANDSHAKE_API, 0, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, 0);
    await c.sendRaw(raw("\u0000alice\u0000alice-secret"));
    const answer = await c.readFrame();
    assert.deepEqual(answer, new Uint8Array(0));
    assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers.length, 1);
  }
  {
    await using c = await WireClient.connect(b.saslPort);
    assert.equal((await c.call(SASL_HANDSHAKE_API, 0, { mechanism: "PLAIN" })).errorCode, 0);
    await c.sendRaw(raw("\u0000alice\u0000wrong"));
    assert.equal(await c.readFrame(), null, "a failed raw exchange is closed");
  }
});

Deno.test("SASL_SSL: SCRAM inside TLS; over TLS, refused the same way", async () => {
  const certs = await makeTestCerts({ alice: "/CN=alice-cert/O=acme" });
  try {
    await using b = await testBroker({
      security: {
        ...DEFAULT_SECURITY_CONFIG,
        listeners: [{ name: "SASL_SSL", protocol: "SASL_SSL", host: "127.0.0.1", port: 0 }],
        tls: {
          certFile: certs.serverCertFile,
          keyFile: certs.serverKeyFile,
          clientCaFile: null,
        },
        saslUsers: USERS,
      },
    });
    const port = b.listeners.find((l) => l.name === "SASL_SSL")!.port;
    const tls = async () => {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port,
        caCerts: [await Deno.readTextFile(certs.caCertFile)],
      });
      await conn.handshake();
      return WireClient.over(conn);
    };
    {
      await using c = await tls();
      await c.send(METADATA_API, 12, metadataReq);
      // The broker's TLS close comes without close_notify today: an EOF either way.
      const frame = await c.readFrame().catch((e) => {
        if (e instanceof Deno.errors.UnexpectedEof) return null;
        throw e;
      });
      assert.equal(frame, null, "Metadata before authentication over TLS");
    }
    {
      await using c = await tls();
      await apiVersions(c);
      const r = await scramLogin(c, "SCRAM-SHA-512", "alice", "alice-secret");
      assert.equal(r.errorCode, 0, r.errorMessage ?? "");
      assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers[0].port, port);
    }
    {
      await using c = await tls();
      const r = await plainLogin(c, "alice", "wrong");
      assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
      const end = await within(
        c.readFrame().catch((e) => e instanceof Deno.errors.UnexpectedEof ? null : e),
        5000,
        "close after the failure",
      );
      assert.equal(end, null);
    }
  } finally {
    await certs.cleanup();
  }
});
