/**
 * ACLs and the authorizer (KIP-11, KIP-140, KIP-290, KIP-430, KIP-679) over
 * real TCP with our own codec: the ACL APIs' answers (SECURITY_DISABLED
 * without an authorizer, Kafka's INVALID_REQUEST messages, ANY and MATCH
 * filters, DeleteAcls answering what it removed), and the checks of the
 * produce, fetch, metadata, group, transaction, topic and config APIs for
 * `User:ANONYMOUS` on a PLAINTEXT listener; then two brokers sharing one
 * SQLite meta store enforcing an ACL made through the other.
 */

import assert from "node:assert/strict";
import {
  CREATE_ACLS_API,
  type CreateAclsRequest,
  defaultDeleteTopicsRequest,
  defaultDescribeConfigsRequest,
  defaultHeartbeatRequest,
  defaultInitProducerIdRequest,
  defaultListGroupsRequest,
  defaultMetadataRequest,
  DELETE_ACLS_API,
  DELETE_TOPICS_API,
  DESCRIBE_ACLS_API,
  DESCRIBE_CONFIGS_API,
  type DescribeAclsRequest,
  HEARTBEAT_API,
  INIT_PRODUCER_ID_API,
  LIST_GROUPS_API,
  METADATA_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { DEFAULT_SECURITY_CONFIG } from "../broker/security_config.ts";
import { AclOperation as Op, ResourceType as RT } from "../broker/authorizer.ts";
import { type AclBinding, AclPermission as Perm, PatternType as PT } from "../broker/acl.ts";
import { addAcls } from "../broker/acl_store.ts";
import type { MetaStore } from "../stores/types.ts";
import { testBroker } from "./broker_util.ts";
import { createTopic, fetchPartition, produceAll, sleep } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";

const ME = "User:ANONYMOUS";
const ACL_SECURITY = { ...DEFAULT_SECURITY_CONFIG, authorizer: "acl" as const };

function acl(p: Partial<AclBinding>): AclBinding {
  return {
    resourceType: RT.TOPIC,
    patternType: PT.LITERAL,
    resourceName: "t",
    principal: ME,
    host: "*",
    operation: Op.READ,
    permission: Perm.ALLOW,
    ...p,
  };
}

const creation = (b: AclBinding) => ({
  resourceType: b.resourceType,
  resourceName: b.resourceName,
  resourcePatternType: b.patternType,
  principal: b.principal,
  host: b.host,
  operation: b.operation,
  permissionType: b.permission,
});

const ANY_FILTER: DescribeAclsRequest = {
  resourceTypeFilter: RT.ANY,
  resourceNameFilter: null,
  patternTypeFilter: PT.ANY,
  principalFilter: null,
  hostFilter: null,
  operation: Op.ANY,
  permissionType: Perm.ANY,
};

/** What the caller may do on the cluster: administer ACLs and create topics. */
const ADMIN = [Op.ALTER, Op.DESCRIBE, Op.CREATE].map((operation) =>
  acl({ resourceType: RT.CLUSTER, resourceName: "kafka-cluster", operation })
);

async function aclBroker(meta: MetaStore = new MemoryMetaStore(), seed = ADMIN) {
  await addAcls(meta, seed);
  const broker = await testBroker({ meta, log: new MemoryLogStore(), security: ACL_SECURITY });
  const c = await WireClient.connect(broker.port);
  return { broker, c };
}

async function createAcls(c: WireClient, bindings: AclBinding[], version = 3) {
  const req: CreateAclsRequest = { creations: bindings.map(creation) };
  return (await c.call(CREATE_ACLS_API, version, req)).results;
}

async function metadata(c: WireClient, topics: string[] | null, ops = false) {
  const req = defaultMetadataRequest();
  req.topics = topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name }));
  req.allowAutoTopicCreation = false;
  req.includeTopicAuthorizedOperations = ops;
  req.includeClusterAuthorizedOperations = ops;
  // v8-10 carry the cluster operations (KIP-430; moved to DescribeCluster by KIP-700).
  return await c.call(METADATA_API, ops ? 10 : 12, req);
}

Deno.test("ACL APIs without an authorizer answer SECURITY_DISABLED, as Kafka does", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  for (const v of [1, 3]) {
    const d = await c.call(DESCRIBE_ACLS_API, v, ANY_FILTER);
    assert.equal(d.errorCode, ErrorCode.SECURITY_DISABLED);
    assert.equal(d.errorMessage, "No Authorizer is configured.");
    const [r] = await createAcls(c, [acl({})], v);
    assert.equal(r.errorCode, ErrorCode.SECURITY_DISABLED);
    const del = await c.call(DELETE_ACLS_API, v, { filters: [{ ...ANY_FILTER }] });
    assert.equal(del.filterResults[0].errorCode, ErrorCode.SECURITY_DISABLED);
  }
});

Deno.test("CreateAcls refuses what Kafka refuses, with its messages; DescribeAcls filters", async () => {
  const { broker, c } = await aclBroker();
  await using _b = broker;
  await using _c = c;
  // KIP-679: no IDEMPOTENT_WRITE on the cluster and no WRITE on any topic yet.
  const idempotent = await c.call(INIT_PRODUCER_ID_API, 5, {
    ...defaultInitProducerIdRequest(),
    transactionalId: null,
    transactionTimeoutMs: 60000,
  });
  assert.equal(idempotent.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const results = await createAcls(c, [
    acl({ resourceType: RT.ANY }),
    acl({ patternType: PT.MATCH }),
    acl({ principal: "alice" }),
    acl({ resourceType: RT.CLUSTER, resourceName: "other" }),
    acl({ resourceName: "" }),
    acl({ operation: Op.ANY }),
    acl({ permission: Perm.ANY }),
    acl({ resourceName: "orders-1" }),
    acl({ patternType: PT.PREFIXED, resourceName: "orders-", operation: Op.WRITE }),
    acl({ resourceName: "*", principal: "User:*", operation: Op.DESCRIBE }),
  ]);
  assert.deepEqual(results.map((r) => [r.errorCode, r.errorMessage]), [
    [ErrorCode.INVALID_REQUEST, "Invalid resourceType ANY"],
    [ErrorCode.INVALID_REQUEST, "Invalid patternType MATCH"],
    [
      ErrorCode.INVALID_REQUEST,
      "Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)",
    ],
    [ErrorCode.INVALID_REQUEST, "The only valid name for the CLUSTER resource is kafka-cluster"],
    [ErrorCode.INVALID_REQUEST, "Invalid empty resource name"],
    [ErrorCode.INVALID_REQUEST, "Invalid operation ANY"],
    [ErrorCode.INVALID_REQUEST, "Invalid permissionType ANY"],
    [0, null],
    [0, null],
    [0, null],
  ]);
  const all = await c.call(DESCRIBE_ACLS_API, 3, ANY_FILTER);
  assert.equal(all.errorCode, 0);
  // The three cluster ACLs are one resource; the topics' patterns are three.
  assert.equal(all.resources.length, 4);
  const match = await c.call(DESCRIBE_ACLS_API, 1, {
    ...ANY_FILTER,
    resourceTypeFilter: RT.TOPIC,
    patternTypeFilter: PT.MATCH,
    resourceNameFilter: "orders-1",
  });
  assert.deepEqual(
    match.resources.map((r) => `${r.patternType}:${r.resourceName}`).sort(),
    ["3:*", "3:orders-1", "4:orders-"],
  );
  const prefixed = await c.call(DESCRIBE_ACLS_API, 2, {
    ...ANY_FILTER,
    patternTypeFilter: PT.PREFIXED,
  });
  assert.deepEqual(prefixed.resources, [{
    resourceType: RT.TOPIC,
    resourceName: "orders-",
    patternType: PT.PREFIXED,
    acls: [{ principal: ME, host: "*", operation: Op.WRITE, permissionType: Perm.ALLOW }],
  }]);
  const unknown = await c.call(DESCRIBE_ACLS_API, 3, { ...ANY_FILTER, operation: 0 });
  assert.equal(unknown.errorCode, ErrorCode.INVALID_REQUEST);

  // DeleteAcls answers, per filter, the ACLs it removed.
  const del = await c.call(DELETE_ACLS_API, 3, {
    filters: [
      { ...ANY_FILTER, resourceTypeFilter: RT.TOPIC, patternTypeFilter: PT.LITERAL },
      { ...ANY_FILTER, resourceNameFilter: "nothing" },
    ],
  });
  assert.deepEqual(
    del.filterResults.map((f) => f.matchingAcls.map((m) => m.resourceName).sort()),
    [["*", "orders-1"], []],
  );
  assert.equal(del.filterResults[0].matchingAcls[0].errorCode, 0);
  const left = await c.call(DESCRIBE_ACLS_API, 3, { ...ANY_FILTER, resourceTypeFilter: RT.TOPIC });
  assert.deepEqual(left.resources.map((r) => r.resourceName), ["orders-"]);
});

Deno.test("the authorizer enforces topic, group, transaction and config ACLs per API", async () => {
  const { broker, c } = await aclBroker();
  await using _b = broker;
  await using _c = c;
  const orders = { name: "orders-1", id: await createTopic(c, "orders-1", 1) };
  const secret = { name: "secret", id: await createTopic(c, "secret", 1) };
  const created = await createAcls(c, [
    acl({ patternType: PT.PREFIXED, resourceName: "orders-", operation: Op.WRITE }),
    acl({ resourceName: "orders-1", operation: Op.READ }),
    acl({ resourceType: RT.GROUP, resourceName: "g1", operation: Op.READ }),
  ]);
  assert.deepEqual(created.map((r) => r.errorCode), [0, 0, 0]);

  // Produce: WRITE (prefixed ACL); the other topic is refused per partition.
  assert.equal((await produceAll(c, orders.name, 1, 0, 2))[0].errorCode, 0);
  assert.equal(
    (await produceAll(c, secret.name, 1, 0, 2))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );
  // Fetch: READ.
  assert.equal((await fetchPartition(c, orders, 0, 0)).errorCode, 0);
  assert.equal(
    (await fetchPartition(c, secret, 0, 0)).errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );

  // Metadata hides what the caller may not DESCRIBE, and refuses it by name.
  const listed = await metadata(c, null, true);
  assert.deepEqual(listed.topics.map((t) => t.name), ["orders-1"]);
  const bits = (...ops: number[]) => ops.reduce((b, op) => b | (1 << op), 0);
  assert.equal(listed.topics[0].topicAuthorizedOperations, bits(Op.READ, Op.WRITE, Op.DESCRIBE));
  assert.equal(
    listed.clusterAuthorizedOperations,
    bits(Op.CREATE, Op.ALTER, Op.DESCRIBE),
    "KIP-430: the cluster operations the ACLs allow",
  );
  const named = await metadata(c, ["secret", "orders-1"]);
  assert.deepEqual(named.topics.map((t) => [t.name, t.errorCode]), [
    ["secret", ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ["orders-1", 0],
  ]);

  // A DENY beats every ALLOW, at once on this broker.
  await createAcls(c, [
    acl({ resourceName: "orders-1", operation: Op.WRITE, permission: Perm.DENY }),
  ]);
  assert.equal(
    (await produceAll(c, orders.name, 1, 2, 2))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );
  assert.equal((await fetchPartition(c, orders, 0, 0)).errorCode, 0, "READ is still allowed");

  // Groups: READ on g1 only; ListGroups shows only what the caller may DESCRIBE.
  const hb = async (groupId: string) =>
    (await c.call(HEARTBEAT_API, 4, {
      ...defaultHeartbeatRequest(),
      groupId,
      memberId: "m",
      generationId: 1,
    })).errorCode;
  assert.equal(await hb("g2"), ErrorCode.GROUP_AUTHORIZATION_FAILED);
  assert.notEqual(await hb("g1"), ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const groups = await c.call(LIST_GROUPS_API, 5, defaultListGroupsRequest());
  assert.equal(groups.errorCode, 0);

  // InitProducerId: idempotence needs WRITE on some topic (KIP-679), a transactional id WRITE on it.
  const init = async (transactionalId: string | null) =>
    (await c.call(INIT_PRODUCER_ID_API, 5, {
      ...defaultInitProducerIdRequest(),
      transactionalId,
      transactionTimeoutMs: 60000,
    })).errorCode;
  assert.equal(await init(null), 0);
  assert.equal(await init("tx"), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

  // DeleteTopics needs DELETE; DescribeConfigs DESCRIBE_CONFIGS on the topic or the cluster.
  const del = await c.call(DELETE_TOPICS_API, 6, {
    ...defaultDeleteTopicsRequest(),
    topics: [{ name: "secret", topicId: ZERO_UUID }],
    timeoutMs: 5000,
  });
  assert.equal(del.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const configs = await c.call(DESCRIBE_CONFIGS_API, 4, {
    ...defaultDescribeConfigsRequest(),
    resources: [
      { resourceType: 2, resourceName: "orders-1", configurationKeys: null },
      { resourceType: 4, resourceName: "0", configurationKeys: null },
    ],
  });
  assert.deepEqual(configs.results.map((r) => r.errorCode), [
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ]);

  // Without cluster ALTER, the ACL APIs themselves are refused.
  await c.call(DELETE_ACLS_API, 3, {
    filters: [{ ...ANY_FILTER, resourceTypeFilter: RT.CLUSTER, operation: Op.ALTER }],
  });
  const [refused] = await createAcls(c, [acl({})]);
  assert.equal(refused.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
});

Deno.test("super users may do anything; no ACL at all is open only with allow.everyone.if.no.acl.found", async () => {
  const meta = new MemoryMetaStore();
  await using su = await testBroker({
    meta,
    log: new MemoryLogStore(),
    security: { ...ACL_SECURITY, superUsers: [ME] },
  });
  await using c = await WireClient.connect(su.port);
  await createTopic(c, "t", 1);
  assert.equal((await produceAll(c, "t", 1, 0, 1))[0].errorCode, 0);
  assert.deepEqual((await metadata(c, null)).topics.map((t) => t.name), ["t"]);

  await using open = await testBroker({
    meta: new MemoryMetaStore(),
    log: new MemoryLogStore(),
    security: { ...ACL_SECURITY, allowEveryoneIfNoAclFound: true },
  });
  await using o = await WireClient.connect(open.port);
  await createTopic(o, "t", 1);
  assert.equal((await produceAll(o, "t", 1, 0, 1))[0].errorCode, 0);
  await createAcls(o, [acl({ principal: "User:someone-else", operation: Op.WRITE })]);
  assert.equal(
    (await produceAll(o, "t", 1, 1, 1))[0].errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    "an ACL on the topic closes it to everyone else",
  );
});

Deno.test("two brokers sharing one SQLite meta store enforce an ACL made on the other within seconds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skb-acl-" });
  try {
    const log = new MemoryLogStore();
    const metaA = new SqliteMetaStore(`${dir}/meta.db`);
    await addAcls(metaA, ADMIN);
    await using a = await testBroker({ meta: metaA, log, security: ACL_SECURITY, nodeId: 0 });
    await using b = await testBroker({
      meta: new SqliteMetaStore(`${dir}/meta.db`),
      log,
      security: ACL_SECURITY,
      nodeId: 1,
    });
    await using ca = await WireClient.connect(a.port);
    await using cb = await WireClient.connect(b.port);
    await createTopic(ca, "shared", 1);
    const produceB = async (from: number) =>
      (await produceAll(cb, "shared", 1, from, 1))[0].errorCode;
    assert.equal(await produceB(0), ErrorCode.TOPIC_AUTHORIZATION_FAILED);

    await createAcls(ca, [acl({ resourceName: "shared", operation: Op.WRITE })]);
    const t0 = Date.now();
    let code = await produceB(0);
    for (let i = 0; i < 50 && code !== 0; i++) {
      await sleep(100);
      code = await produceB(0);
    }
    assert.equal(code, 0, "broker B allows the write once it has read the new ACL");
    const allowMs = Date.now() - t0;

    await ca.call(DELETE_ACLS_API, 3, {
      filters: [{ ...ANY_FILTER, resourceNameFilter: "shared" }],
    });
    const t1 = Date.now();
    code = await produceB(1);
    for (let i = 0; i < 50 && code === 0; i++) {
      await sleep(100);
      code = await produceB(1);
    }
    assert.equal(code, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "and refuses it once it is deleted");
    const denyMs = Date.now() - t1;
    assert.ok(allowMs < 3000 && denyMs < 3000, `took ${allowMs} ms and ${denyMs} ms`);
    console.log(
      `ACL change seen by the other broker after ${allowMs} ms (create), ${denyMs} ms (delete)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
