/**
 * Kafka 4.4's own kafka-acls (org.apache.kafka.tools.AclCommand) against our
 * broker with `--authorizer acl`, as an operator uses it: --add, --list and
 * --remove with literal and prefixed patterns, the --producer and --consumer
 * conveniences, and the ACLs it adds enforced on the next request.
 */

import assert from "node:assert/strict";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { DEFAULT_SECURITY_CONFIG } from "../broker/security_config.ts";
import { AclOperation as Op, ResourceType as RT } from "../broker/authorizer.ts";
import { AclPermission as Perm, PatternType as PT } from "../broker/acl.ts";
import { addAcls } from "../broker/acl_store.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { testBroker } from "./broker_util.ts";
import { createTopic, produceAll } from "./helpers.ts";
import { runKafkaTool } from "./kafka_tools.ts";
import { WireClient } from "./wire_client.ts";
import { saslBroker } from "./sasl_broker.ts";

const ME = "User:ANONYMOUS";

Deno.test("kafka-acls adds, lists and removes literal and prefixed ACLs that the broker enforces", async () => {
  const meta = new MemoryMetaStore();
  // The operator may administer ACLs and create topics (cluster ALTER, DESCRIBE, CREATE).
  await addAcls(
    meta,
    [Op.ALTER, Op.DESCRIBE, Op.CREATE].map((operation) => ({
      resourceType: RT.CLUSTER,
      patternType: PT.LITERAL,
      resourceName: "kafka-cluster",
      principal: ME,
      host: "*",
      operation,
      permission: Perm.ALLOW,
    })),
  );
  await using broker = await testBroker({
    meta,
    log: new MemoryLogStore(),
    security: { ...DEFAULT_SECURITY_CONFIG, authorizer: "acl" },
  });
  await using c = await WireClient.connect(broker.port);
  const bootstrap = `127.0.0.1:${broker.port}`;
  const acls = async (...args: string[]) => {
    const r = await runKafkaTool("kafka-acls", ["--bootstrap-server", bootstrap, ...args], 60_000);
    assert.equal(r.code, 0, `kafka-acls ${args.join(" ")}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  await createTopic(c, "orders-eu", 1);
  await createTopic(c, "audit", 1);
  assert.equal(
    (await produceAll(c, "orders-eu", 1, 0, 1))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );

  // A prefixed WRITE for us, a literal READ for alice.
  await acls(
    "--add",
    "--allow-principal",
    ME,
    "--operation",
    "Write",
    "--topic",
    "orders-",
    "--resource-pattern-type",
    "prefixed",
  );
  await acls("--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "audit");
  assert.equal((await produceAll(c, "orders-eu", 1, 0, 1))[0].errorCode, 0, "prefixed WRITE");
  assert.equal(
    (await produceAll(c, "audit", 1, 0, 1))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );

  const prefixed = await acls(
    "--list",
    "--topic",
    "orders-",
    "--resource-pattern-type",
    "prefixed",
  );
  assert.match(
    prefixed,
    /ResourcePattern\(resourceType=TOPIC, name=orders-, patternType=PREFIXED\)/,
  );
  assert.match(
    prefixed,
    /\(principal=User:ANONYMOUS, host=\*, operation=WRITE, permissionType=ALLOW\)/,
  );
  // MATCH: every pattern that applies to the topic orders-eu.
  const match = await acls("--list", "--topic", "orders-eu", "--resource-pattern-type", "match");
  assert.match(match, /name=orders-, patternType=PREFIXED/);
  assert.doesNotMatch(match, /name=audit/);
  const all = await acls("--list");
  assert.match(all, /name=audit, patternType=LITERAL/);
  assert.match(all, /principal=User:alice, host=\*, operation=READ, permissionType=ALLOW/);
  assert.match(all, /name=kafka-cluster, patternType=LITERAL/);

  // --producer: WRITE, DESCRIBE and CREATE on the topic; --consumer: READ and DESCRIBE, READ on the group.
  await acls("--add", "--allow-principal", "User:bob", "--producer", "--topic", "audit");
  await acls(
    "--add",
    "--allow-principal",
    "User:carol",
    "--consumer",
    "--topic",
    "audit",
    "--group",
    "readers",
  );
  const audit = await acls("--list", "--topic", "audit");
  for (const op of ["WRITE", "DESCRIBE", "CREATE"]) {
    assert.match(
      audit,
      new RegExp(`principal=User:bob, host=\\*, operation=${op}, permissionType=ALLOW`),
    );
  }
  for (const op of ["READ", "DESCRIBE"]) {
    assert.match(
      audit,
      new RegExp(`principal=User:carol, host=\\*, operation=${op}, permissionType=ALLOW`),
    );
  }
  const group = await acls("--list", "--group", "readers");
  assert.match(group, /resourceType=GROUP, name=readers, patternType=LITERAL/);
  assert.match(group, /principal=User:carol, host=\*, operation=READ, permissionType=ALLOW/);

  // A deny added with the tool beats the prefixed allow.
  await acls("--add", "--deny-principal", ME, "--operation", "Write", "--topic", "orders-eu");
  assert.equal(
    (await produceAll(c, "orders-eu", 1, 1, 1))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );

  // --remove (with --force: no prompt) takes them away again.
  await acls("--remove", "--force", "--topic", "orders-eu");
  assert.equal((await produceAll(c, "orders-eu", 1, 1, 1))[0].errorCode, 0, "deny removed");
  await acls(
    "--remove",
    "--force",
    "--topic",
    "orders-",
    "--resource-pattern-type",
    "prefixed",
  );
  assert.equal(
    (await produceAll(c, "orders-eu", 1, 2, 1))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    "prefixed allow removed",
  );
  const after = await acls("--list", "--topic", "orders-", "--resource-pattern-type", "any");
  assert.doesNotMatch(after, /name=orders-,/);
  assert.match(await acls("--list", "--topic", "audit"), /User:bob/, "others untouched");
});

/** Runs kcat with `stdin` (killed after `timeoutMs`). */
async function kcat(args: string[], stdin = "", timeoutMs = 30_000) {
  const child = new Deno.Command("kcat", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("end to end with kcat: a principal writes one prefix and reads with one group only, a deny beats an allow, a super user may do anything", async () => {
  const meta = new MemoryMetaStore();
  const log = new MemoryLogStore();
  const security = { ...DEFAULT_SECURITY_CONFIG, authorizer: "acl" as const };
  // The same stores, two brokers: one where ANONYMOUS is an ordinary user, one where it is a super user.
  await using user = await testBroker({ meta, log, security, nodeId: 0 });
  await using admin = await testBroker({
    meta,
    log,
    security: { ...security, superUsers: [ME] },
    nodeId: 1,
  });
  await using c = await WireClient.connect(admin.port);
  for (const t of ["app-events", "app-audit", "other"]) await createTopic(c, t, 1);
  const allow = (
    resourceType: number,
    patternType: number,
    resourceName: string,
    operation: number,
  ) => ({
    resourceType,
    patternType,
    resourceName,
    principal: ME,
    host: "*",
    operation,
    permission: Perm.ALLOW,
  });
  await addAcls(meta, [
    allow(RT.TOPIC, PT.PREFIXED, "app-", Op.WRITE),
    allow(RT.TOPIC, PT.PREFIXED, "app-", Op.READ),
    allow(RT.GROUP, PT.LITERAL, "readers", Op.READ),
    { ...allow(RT.TOPIC, PT.LITERAL, "app-audit", Op.WRITE), permission: Perm.DENY },
  ]);
  const brokerOf = (b: { port: number }) => ["-b", `127.0.0.1:${b.port}`];
  const produce = (b: { port: number }, topic: string, lines: string) =>
    kcat([...brokerOf(b), "-P", "-t", topic, "-X", "message.timeout.ms=5000"], lines);
  const consume = (b: { port: number }, group: string, topic: string, n: number) =>
    kcat(
      [
        ...brokerOf(b),
        "-G",
        group,
        "-o",
        "beginning",
        "-c",
        String(n),
        "-e",
        "-X",
        "session.timeout.ms=6000",
        topic,
      ],
      "",
      20_000,
    );

  // Let the user broker read the ACLs just added to the store.
  await new Promise((r) => setTimeout(r, 1500));

  const ok = await produce(user, "app-events", "a\nb\nc\n");
  assert.equal(ok.code, 0, `write to the prefix: ${ok.stderr}`);
  const other = await produce(user, "other", "x\n");
  assert.notEqual(other.code, 0, "no WRITE on other");
  assert.match(other.stderr, /authoriz/i);
  const denied = await produce(user, "app-audit", "x\n");
  assert.notEqual(denied.code, 0, "the DENY beats the prefixed ALLOW");
  assert.match(denied.stderr, /authoriz/i);

  const read = await consume(user, "readers", "app-events", 3);
  assert.equal(read.code, 0, `read with the group: ${read.stderr}`);
  assert.deepEqual(read.stdout.trim().split("\n"), ["a", "b", "c"]);
  const wrongGroup = await consume(user, "strangers", "app-events", 3);
  assert.notEqual(wrongGroup.code, 0, "no READ on the group strangers");
  assert.match(wrongGroup.stderr, /authoriz/i);
  console.log(
    `kcat refusals: ${other.stderr.trim().split("\n").at(-1)} / ${
      wrongGroup.stderr.trim().split("\n").at(-1)
    }`,
  );

  // The super user, on the same stores, may do everything the user may not.
  assert.equal((await produce(admin, "other", "x\n")).code, 0);
  assert.equal((await produce(admin, "app-audit", "y\n")).code, 0);
  const all = await consume(admin, "strangers", "other", 1);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.trim(), "x");
});

Deno.test("end to end over SASL/PLAIN with kcat: alice writes one prefix and reads with one group only, a deny beats her allow, the super user admin may do anything", async () => {
  const users = [{ name: "alice", password: "alice-secret" }, {
    name: "admin",
    password: "admin-secret",
  }];
  await using b = await saslBroker({
    authorizer: "acl",
    saslUsers: users,
    saslMechanisms: ["PLAIN"],
    superUsers: ["User:admin"],
  });
  const meta = b.broker.context.meta;
  const alice = "User:alice";
  const allow = (
    resourceType: number,
    patternType: number,
    resourceName: string,
    operation: number,
  ) => ({
    resourceType,
    patternType,
    resourceName,
    principal: alice,
    host: "*",
    operation,
    permission: Perm.ALLOW,
  });
  const sasl = (user: { name: string; password: string }) => [
    "-b",
    `127.0.0.1:${b.saslPort}`,
    "-X",
    "security.protocol=SASL_PLAINTEXT",
    "-X",
    "sasl.mechanisms=PLAIN",
    "-X",
    `sasl.username=${user.name}`,
    "-X",
    `sasl.password=${user.password}`,
  ];
  const [aliceLogin, adminLogin] = users.map(sasl);
  const produce = (login: string[], topic: string, lines: string) =>
    kcat([...login, "-P", "-t", topic, "-X", "message.timeout.ms=5000"], lines);
  const consume = (login: string[], group: string, topic: string, n: number) =>
    kcat(
      [
        ...login,
        "-G",
        group,
        "-o",
        "beginning",
        "-c",
        String(n),
        "-e",
        "-X",
        "session.timeout.ms=6000",
        topic,
      ],
      "",
      20_000,
    );

  for (const name of ["app-events", "app-audit", "other"]) {
    await meta.createTopic({ name, partitions: 1, configs: {} });
  }
  await addAcls(meta, [
    allow(RT.TOPIC, PT.PREFIXED, "app-", Op.WRITE),
    allow(RT.TOPIC, PT.PREFIXED, "app-", Op.READ),
    allow(RT.GROUP, PT.LITERAL, "readers", Op.READ),
    { ...allow(RT.TOPIC, PT.LITERAL, "app-audit", Op.WRITE), permission: Perm.DENY },
  ]);
  await new Promise((r) => setTimeout(r, 1500));

  const ok = await produce(aliceLogin, "app-events", "a\nb\nc\n");
  assert.equal(ok.code, 0, `alice writes to her prefix: ${ok.stderr}`);
  const other = await produce(aliceLogin, "other", "x\n");
  assert.notEqual(other.code, 0, "alice may not write to other");
  assert.match(other.stderr, /authoriz/i);
  const denied = await produce(aliceLogin, "app-audit", "x\n");
  assert.notEqual(denied.code, 0, "the DENY beats her prefixed ALLOW");
  assert.match(denied.stderr, /authoriz/i);
  const read = await consume(aliceLogin, "readers", "app-events", 3);
  assert.equal(read.code, 0, `alice reads with her group: ${read.stderr}`);
  assert.deepEqual(read.stdout.trim().split("\n"), ["a", "b", "c"]);
  const wrongGroup = await consume(aliceLogin, "strangers", "app-events", 3);
  assert.notEqual(wrongGroup.code, 0, "alice may not use the group strangers");
  assert.match(wrongGroup.stderr, /authoriz/i);

  assert.equal((await produce(adminLogin, "other", "x\n")).code, 0);
  assert.equal((await produce(adminLogin, "app-audit", "y\n")).code, 0);
  const all = await consume(adminLogin, "strangers", "other", 1);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.trim(), "x");
});
