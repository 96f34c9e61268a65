/**
 * Dynamic configs over TCP: broker configs (KIP-226) and group configs
 * (KIP-848) kept in the meta store, client quotas (stored, not enforced),
 * ListConfigResources; two brokers sharing one SQLite meta store; a failing
 * meta store; and Kafka 4.4's own kafka-configs against us.
 */

import assert from "node:assert/strict";
import {
  ALTER_CLIENT_QUOTAS_API,
  API_VERSIONS_API,
  CREATE_TOPICS_API,
  DESCRIBE_CLIENT_QUOTAS_API,
  DESCRIBE_CONFIGS_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  LIST_CONFIG_RESOURCES_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { batch } from "../stores/meta_conformance.ts";
import { enforceRetention } from "../broker/retention.ts";
import { GroupCoordinator } from "../broker/group_coordinator.ts";
import type { MetaStore } from "../stores/types.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { runKafkaTool } from "./kafka_tools.ts";

const BROKER = 4;
const GROUP = 32;
const SET = 0;
const DELETE = 1;

function alter(
  resourceType: number,
  resourceName: string,
  configs: { name: string; configOperation: number; value: string | null }[],
  validateOnly = false,
) {
  return { resources: [{ resourceType, resourceName, configs }], validateOnly };
}

function describe(resourceType: number, resourceName: string, keys: string[] | null = null) {
  return {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: false,
  };
}

async function waitFor(what: string, ok: () => boolean, ms = 5000): Promise<number> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

Deno.test("broker configs: altered, described with sources and synonyms, validated", async (t) => {
  await using b = await testBroker();
  await using c = await WireClient.connect(b.port);

  await t.step("the cluster default and this broker's own value, in precedence", async () => {
    const r1 = await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "", [
        { name: "log.retention.ms", configOperation: SET, value: "1000" },
        { name: "message.max.bytes", configOperation: SET, value: "4096" },
      ]),
    );
    assert.equal(r1.responses[0].errorCode, ErrorCode.NONE, r1.responses[0].errorMessage ?? "");
    const r2 = await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "0", [{ name: "message.max.bytes", configOperation: SET, value: "3000" }]),
    );
    assert.equal(r2.responses[0].errorCode, ErrorCode.NONE);
    const d = await c.call(DESCRIBE_CONFIGS_API, 4, describe(BROKER, "0"));
    const by = new Map(d.results[0].configs.map((e) => [e.name, e]));
    const mmb = by.get("message.max.bytes")!;
    assert.equal(mmb.value, "3000");
    assert.equal(mmb.configSource, 2); // DYNAMIC_BROKER_CONFIG
    assert.deepEqual(mmb.synonyms.map((s) => [s.source, s.name, s.value]), [
      [2, "message.max.bytes", "3000"],
      [3, "message.max.bytes", "4096"],
      [5, "message.max.bytes", "1048588"],
    ]);
    const ret = by.get("log.retention.ms")!;
    assert.equal(ret.value, "1000");
    assert.equal(ret.configSource, 3); // DYNAMIC_DEFAULT_BROKER_CONFIG
    assert.deepEqual(ret.synonyms.map((s) => [s.source, s.name]), [
      [3, "log.retention.ms"],
      [5, "log.retention.hours"],
    ]);
    assert.equal(by.get("listeners")!.readOnly, true);
    // The default resource lists only what the default sets.
    const dd = await c.call(DESCRIBE_CONFIGS_API, 4, describe(BROKER, ""));
    assert.deepEqual(
      dd.results[0].configs.map((e) => [e.name, e.value, e.configSource]).sort(),
      [["log.retention.ms", "1000", 3], ["message.max.bytes", "4096", 3]],
    );
    // The live config the produce path reads has this broker's own value.
    assert.equal(b.context.config.messageMaxBytes, 3000);
    // Deleting the broker's own value falls back to the cluster default, then to the flag.
    await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "0", [{ name: "message.max.bytes", configOperation: DELETE, value: null }]),
    );
    assert.equal(b.context.config.messageMaxBytes, 4096);
    await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "", [{ name: "message.max.bytes", configOperation: DELETE, value: null }]),
    );
    assert.equal(b.context.config.messageMaxBytes, 1048588);
  });

  await t.step("read-only, unknown and bad values are refused, naming the value", async () => {
    const cases: [string, string, RegExp][] = [
      [
        "listeners",
        "PLAINTEXT://:1",
        /listeners is read-only here; it is set by --host and --port/,
      ],
      ["node.id", "3", /--node-id/],
      ["message.max.bytes", "lots", /message\.max\.bytes="lots" must be a whole number/],
      ["num.partitions", "0", /num\.partitions="0" must be a whole number from 1/],
      ["auto.create.topics.enable", "yes", /"yes" must be true or false/],
      ["no.such.config", "1", /Unknown broker config "no.such.config"/],
    ];
    for (const [name, value, message] of cases) {
      const r = await c.call(
        INCREMENTAL_ALTER_CONFIGS_API,
        1,
        alter(BROKER, "", [{ name, configOperation: SET, value }]),
      );
      assert.equal(r.responses[0].errorCode, ErrorCode.INVALID_CONFIG, name);
      assert.match(r.responses[0].errorMessage ?? "", message);
    }
    const notId = await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "x", [{ name: "num.partitions", configOperation: SET, value: "2" }]),
    );
    assert.equal(notId.responses[0].errorCode, ErrorCode.INVALID_REQUEST);
    // validate_only changes nothing.
    await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "", [{ name: "num.partitions", configOperation: SET, value: "7" }], true),
    );
    assert.equal(b.context.config.defaultPartitions, 1);
  });

  await t.step(
    "num.partitions applies to CreateTopics; an existing name wins over bad configs",
    async () => {
      await c.call(
        INCREMENTAL_ALTER_CONFIGS_API,
        1,
        alter(BROKER, "", [{ name: "num.partitions", configOperation: SET, value: "3" }]),
      );
      const topic = (configs: { name: string; value: string }[]) => ({
        topics: [{
          name: "np",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [],
          configs,
        }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      const made = await c.call(CREATE_TOPICS_API, 7, topic([]));
      assert.equal(made.topics[0].errorCode, ErrorCode.NONE);
      assert.equal(made.topics[0].numPartitions, 3);
      // retention.ms of a topic that sets none comes from the dynamic default.
      const ret = made.topics[0].configs!.find((e) => e.name === "retention.ms")!;
      assert.deepEqual([ret.value, ret.configSource], ["1000", 3]);
      const again = await c.call(
        CREATE_TOPICS_API,
        7,
        topic([{ name: "bogus.config", value: "1" }]),
      );
      assert.equal(again.topics[0].errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    },
  );
});

Deno.test("a dynamic log.retention.ms moves the log start of topics that set none", async () => {
  const meta = new MemoryMetaStore();
  const t = (await meta.createTopic({ name: "r", partitions: 1, configs: {} }))!;
  const minuteAgo = Date.now() - 60_000;
  await meta.commitBatches("b", [batch(t.id, 0, { maxTimestamp: minuteAgo })]);
  // Kafka's 7 days keep it.
  assert.equal(await enforceRetention(meta, Date.now()), 0);
  await meta.alterEntityConfigs("brokers", "", { "log.retention.ms": "1000" });
  assert.equal(await enforceRetention(meta, Date.now()), 1);
  assert.equal((await meta.partitionState(t.id, 0))?.logStartOffset, 10);
});

Deno.test("group configs: validated against the broker's bounds, used by the coordinator", async () => {
  await using b = await testBroker();
  await using c = await WireClient.connect(b.port);
  const low = await c.call(
    INCREMENTAL_ALTER_CONFIGS_API,
    1,
    alter(GROUP, "g", [{
      name: "consumer.session.timeout.ms",
      configOperation: SET,
      value: "100",
    }]),
  );
  assert.equal(low.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(low.responses[0].errorMessage ?? "", /"100" must be at least group\.consumer\.min/);
  const ok = await c.call(
    INCREMENTAL_ALTER_CONFIGS_API,
    1,
    alter(GROUP, "g", [
      { name: "consumer.session.timeout.ms", configOperation: SET, value: "50000" },
      { name: "consumer.heartbeat.interval.ms", configOperation: SET, value: "7000" },
    ]),
  );
  assert.equal(ok.responses[0].errorCode, ErrorCode.NONE, ok.responses[0].errorMessage ?? "");
  const d = await c.call(DESCRIBE_CONFIGS_API, 4, describe(GROUP, "g"));
  assert.deepEqual(
    d.results[0].configs.map((e) => [e.name, e.value, e.configSource]),
    [
      ["consumer.session.timeout.ms", "50000", 8],
      ["consumer.heartbeat.interval.ms", "7000", 8],
      ["share.record.lock.duration.ms", "30000", 5],
      ["share.delivery.count.limit", "5", 5],
      ["share.auto.offset.reset", "latest", 5],
      ["share.isolation.level", "read_uncommitted", 5],
      ["streams.session.timeout.ms", "45000", 5],
      ["streams.heartbeat.interval.ms", "5000", 5],
      ["streams.num.standby.replicas", "0", 5],
    ],
  );
  const other = await c.call(DESCRIBE_CONFIGS_API, 4, describe(GROUP, "h"));
  assert.deepEqual(other.results[0].configs.map((e) => [e.value, e.configSource]), [
    ["45000", 5],
    ["5000", 5],
    ["30000", 5],
    ["5", 5],
    ["latest", 5],
    ["read_uncommitted", 5],
    ["45000", 5],
    ["5000", 5],
    ["0", 5],
  ]);
  // The coordinator settings the dynamic configs keep (given to the GroupCoordinator).
  const dyn = b.context.dynamicConfigs;
  const coordinator = new GroupCoordinator(b.context.meta, dyn.coordinator, b.context.closing);
  const join = (groupId: string) =>
    coordinator.consumerHeartbeat(
      groupId,
      {
        memberId: crypto.randomUUID(),
        memberEpoch: 0,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: 30000,
        subscribedTopicNames: ["none"],
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: [],
      } as unknown as Parameters<GroupCoordinator["consumerHeartbeat"]>[1],
      () => Promise.resolve(new Map()),
    );
  assert.equal((await join("g")).heartbeatIntervalMs, 7000);
  assert.equal((await join("h")).heartbeatIntervalMs, 5000);
});

Deno.test("client quotas are stored with Kafka's validation and filters", async () => {
  await using b = await testBroker();
  await using c = await WireClient.connect(b.port);
  const set = (entity: [string, string | null][], ops: [string, number, boolean][]) =>
    c.call(ALTER_CLIENT_QUOTAS_API, 1, {
      entries: [{
        entity: entity.map(([entityType, entityName]) => ({ entityType, entityName })),
        ops: ops.map(([key, value, remove]) => ({ key, value, remove })),
      }],
      validateOnly: false,
    });
  assert.equal(
    (await set([["client-id", "c"]], [["producer_byte_rate", 1024, false]]))
      .entries[0].errorCode,
    ErrorCode.NONE,
  );
  await set([["client-id", null]], [["consumer_byte_rate", 2048, false]]);
  await set([["user", "u"], ["client-id", "c"]], [["request_percentage", 12.5, false]]);
  const bad = [
    await set([["ip", "not-an-ip"]], [["connection_creation_rate", 5, false]]),
    await set([["client-id", "c"]], [["connection_creation_rate", 5, false]]),
    await set([["client-id", "c"]], [["producer_byte_rate", 1.5, false]]),
    await set([["user", "u"], ["ip", "1.2.3.4"]], [["producer_byte_rate", 1, false]]),
    await set([["team", "x"]], [["producer_byte_rate", 1, false]]),
  ];
  for (const r of bad) assert.equal(r.entries[0].errorCode, ErrorCode.INVALID_REQUEST);
  const query = (components: [string, number, string | null][], strict: boolean) =>
    c.call(DESCRIBE_CLIENT_QUOTAS_API, 1, {
      components: components.map(([entityType, matchType, match]) => ({
        entityType,
        matchType,
        match,
      })),
      strict,
    });
  const names = (r: Awaited<ReturnType<typeof query>>) =>
    (r.entries ?? []).map((e) => e.entity.map((x) => `${x.entityType}=${x.entityName}`).join(","))
      .sort();
  assert.deepEqual(names(await query([["client-id", 0, "c"]], true)), ["client-id=c"]);
  assert.deepEqual(names(await query([["client-id", 0, "c"]], false)), [
    "client-id=c",
    "client-id=c,user=u",
  ]);
  assert.deepEqual(names(await query([["client-id", 1, null]], false)), ["client-id=null"]);
  assert.equal(names(await query([["client-id", 2, null]], true)).length, 2);
  const exact = await query([["client-id", 0, "c"]], true);
  assert.deepEqual(exact.entries![0].values, [{ key: "producer_byte_rate", value: 1024 }]);
  // Removing the last value forgets the entity.
  await set([["client-id", "c"]], [["producer_byte_rate", 0, true]]);
  assert.deepEqual(names(await query([["client-id", 0, "c"]], true)), []);

  const listed = await c.call(LIST_CONFIG_RESOURCES_API, 1, { resourceTypes: [4, 32] });
  assert.equal(listed.errorCode, ErrorCode.NONE);
  assert.deepEqual(listed.configResources, [{ resourceName: "0", resourceType: 4 }]);
  const v0 = await c.call(LIST_CONFIG_RESOURCES_API, 0, { resourceTypes: [] });
  assert.deepEqual(v0, { throttleTimeMs: 0, errorCode: 0, configResources: [] });
});

Deno.test("two brokers sharing a SQLite meta store: an alter on one applies on the other", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/meta.db`;
    await using a = await testBroker({ meta: new SqliteMetaStore(path), nodeId: 0 });
    await using b = await testBroker({ meta: new SqliteMetaStore(path), nodeId: 1 });
    await using c = await WireClient.connect(a.port);
    const r = await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "", [
        { name: "message.max.bytes", configOperation: SET, value: "5000" },
        { name: "auto.create.topics.enable", configOperation: SET, value: "false" },
      ]),
    );
    assert.equal(r.responses[0].errorCode, ErrorCode.NONE);
    assert.equal(a.context.config.messageMaxBytes, 5000);
    const took = await waitFor(
      "broker 1 applies message.max.bytes",
      () =>
        b.context.config.messageMaxBytes === 5000 && b.context.config.autoCreateTopics === false,
    );
    assert.ok(took <= 3000, `took ${took} ms`);
    // Broker 1's own override applies to it only.
    await c.call(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      alter(BROKER, "1", [{ name: "message.max.bytes", configOperation: SET, value: "6000" }]),
    );
    await waitFor(
      "broker 1 applies its own value",
      () => b.context.config.messageMaxBytes === 6000,
    );
    assert.equal(a.context.config.messageMaxBytes, 5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A memory meta store whose named operations fail while `failing` holds them. */
function faultyMeta(): { meta: MetaStore; failing: Set<string> } {
  const failing = new Set<string>();
  const meta = new Proxy(new MemoryMetaStore(), {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        failing.has(String(prop))
          ? Promise.reject(new Error(`${String(prop)} failed (test)`))
          : value.apply(target, args);
    },
  });
  return { meta, failing };
}

Deno.test("a failing meta store: configs requests get a retriable code, the connection stays", async () => {
  const { meta, failing } = faultyMeta();
  await using b = await testBroker({ meta, log: new MemoryLogStore() });
  await using c = await WireClient.connect(b.port);
  for (const op of ["entityConfigs", "alterEntityConfigs", "getTopic", "createTopic"]) {
    failing.add(op);
  }
  const retriable: number[] = [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.REQUEST_TIMED_OUT];
  const d = await c.call(DESCRIBE_CONFIGS_API, 4, describe(BROKER, "0"));
  assert.ok(retriable.includes(d.results[0].errorCode), String(d.results[0].errorCode));
  assert.match(d.results[0].errorMessage ?? "", /Meta store failed/);
  const g = await c.call(DESCRIBE_CONFIGS_API, 4, describe(GROUP, "g"));
  assert.ok(retriable.includes(g.results[0].errorCode));
  const a = await c.call(
    INCREMENTAL_ALTER_CONFIGS_API,
    1,
    alter(BROKER, "", [{ name: "num.partitions", configOperation: SET, value: "2" }]),
  );
  assert.ok(retriable.includes(a.responses[0].errorCode));
  const ct = await c.call(CREATE_TOPICS_API, 7, {
    topics: [{ name: "x", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.ok(retriable.includes(ct.topics[0].errorCode));
  const q = await c.call(DESCRIBE_CLIENT_QUOTAS_API, 1, { components: [], strict: false });
  assert.ok(retriable.includes(q.errorCode));
  // Same connection, store back: it works.
  failing.clear();
  const v = await c.call(API_VERSIONS_API, 3, {
    clientSoftwareName: "t",
    clientSoftwareVersion: "1",
    clusterId: null,
    nodeId: -1,
  });
  assert.equal(v.errorCode, ErrorCode.NONE);
  const d2 = await c.call(DESCRIBE_CONFIGS_API, 4, describe(BROKER, "0"));
  assert.equal(d2.results[0].errorCode, ErrorCode.NONE);
});

Deno.test("Kafka 4.4's kafka-configs alters and describes brokers, groups and clients", async (t) => {
  await using b = await testBroker();
  const bootstrap = `127.0.0.1:${b.port}`;
  const configs = (...args: string[]) =>
    runKafkaTool("kafka-configs", ["--bootstrap-server", bootstrap, ...args], 60_000);
  const ok = (r: { code: number; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.stdout;
  };
  await t.step("brokers: --entity-default and --entity-name", async () => {
    ok(
      await configs(
        "--alter",
        "--entity-type",
        "brokers",
        "--entity-default",
        "--add-config",
        "log.retention.ms=7777",
      ),
    );
    ok(
      await configs(
        "--alter",
        "--entity-type",
        "brokers",
        "--entity-name",
        "0",
        "--add-config",
        "message.max.bytes=9999",
      ),
    );
    const dflt = ok(await configs("--describe", "--entity-type", "brokers", "--entity-default"));
    assert.match(dflt, /log\.retention\.ms=7777/);
    assert.match(dflt, /DYNAMIC_DEFAULT_BROKER_CONFIG:log\.retention\.ms=7777/);
    const own = ok(await configs("--describe", "--entity-type", "brokers", "--entity-name", "0"));
    assert.match(own, /message\.max\.bytes=9999/);
    assert.match(own, /DYNAMIC_BROKER_CONFIG:message\.max\.bytes=9999/);
    assert.equal(b.context.config.messageMaxBytes, 9999);
    const refused = await configs(
      "--alter",
      "--entity-type",
      "brokers",
      "--entity-default",
      "--add-config",
      "listeners=PLAINTEXT://:1",
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /read-only here/);
  });
  await t.step("groups", async () => {
    ok(
      await configs(
        "--alter",
        "--entity-type",
        "groups",
        "--entity-name",
        "g1",
        "--add-config",
        "consumer.session.timeout.ms=50000",
      ),
    );
    const out = ok(await configs("--describe", "--entity-type", "groups", "--entity-name", "g1"));
    assert.match(out, /consumer\.session\.timeout\.ms=50000/);
  });
  await t.step("clients", async () => {
    ok(
      await configs(
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "c1",
        "--add-config",
        "producer_byte_rate=1024",
      ),
    );
    const out = ok(await configs("--describe", "--entity-type", "clients", "--entity-name", "c1"));
    assert.match(out, /producer_byte_rate=1024/);
  });
});
