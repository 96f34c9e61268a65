/**
 * Rebalance latency: how long from a member joining until every member has
 * its assignment, for the classic protocol (JoinGroup v9 / SyncGroup v5 /
 * Heartbeat v4, the first member leader with a round-robin assignment) and
 * for KIP-848 (ConsumerGroupHeartbeat v1, server-side assignor). One topic of
 * 20 partitions; member i talks to broker i % brokers. Brokers run
 * in-process sharing one pair of stores (memory, or one SQLite file plus one
 * log directory, each broker opening its own SQLite connection).
 *
 * Bench members heartbeat every 100 ms (classic Heartbeat and KIP-848 alike;
 * the broker's KIP-848 interval is 5000 ms) and, in KIP-848, acknowledge a
 * new assignment with an immediate heartbeat, as the Java consumer does.
 *
 *   deno task bench:rebalance
 */

import {
  CONSUMER_GROUP_HEARTBEAT_API,
  CREATE_TOPICS_API,
  defaultConsumerGroupHeartbeatRequest,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultHeartbeatRequest,
  defaultJoinGroupRequest,
  defaultSyncGroupRequest,
  HEARTBEAT_API,
  JOIN_GROUP_API,
  SYNC_GROUP_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Writer } from "../protocol/writer.ts";
import { type Broker, startBroker } from "../server/broker.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { openLogStore, openMetaStore } from "../stores/registry.ts";
import { WireClient } from "../tests/wire_client.ts";
import type { LogStore, MetaStore } from "../stores/types.ts";

const TOPIC = "bench-rebalance";
const PARTITIONS = 20;
const HEARTBEAT_MS = 100;
const SESSION_MS = 10_000;
const REBALANCE_MS = 10_000;
/** A scenario that has not converged by then is reported as a timeout. */
const SCENARIO_LIMIT_MS = 20_000;
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function subscription(): Uint8Array {
  const w = new Writer(64);
  w.int16(0);
  w.int32(1);
  w.string(TOPIC);
  w.nullableBytes(null);
  return w.bytes();
}

/** Resolves when `done()` holds (checked every 5 ms); the elapsed ms, or NaN on timeout. */
async function until(t0: number, done: () => boolean): Promise<number> {
  while (!done()) {
    if (performance.now() - t0 > SCENARIO_LIMIT_MS) return NaN;
    await sleep(5);
  }
  return performance.now() - t0;
}

// ---- classic members ----

class ClassicMember {
  memberId = "";
  generation = -1;
  /** Members in the generation this member's assignment belongs to. */
  groupSize = 0;
  partitions: number[] | null = null;
  stopped = false;
  private rejoin = false;
  private loop: Promise<void> | null = null;

  private constructor(
    readonly groupId: string,
    private readonly main: WireClient,
    private readonly beats: WireClient,
  ) {}

  static async start(groupId: string, port: number): Promise<ClassicMember> {
    const m = new ClassicMember(
      groupId,
      await WireClient.connect(port),
      await WireClient.connect(port),
    );
    m.loop = m.run().catch((e) => {
      if (!m.stopped) console.error(`member ${m.memberId}: ${e}`);
    });
    return m;
  }

  private joinRequest() {
    return {
      ...defaultJoinGroupRequest(),
      groupId: this.groupId,
      sessionTimeoutMs: SESSION_MS,
      rebalanceTimeoutMs: REBALANCE_MS,
      memberId: this.memberId,
      protocolType: "consumer",
      protocols: [{ name: "roundrobin", metadata: subscription() }],
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let joined = await this.main.call(JOIN_GROUP_API, 9, this.joinRequest());
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        joined = await this.main.call(JOIN_GROUP_API, 9, this.joinRequest());
      }
      if (joined.errorCode !== ErrorCode.NONE) {
        if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
        await sleep(HEARTBEAT_MS);
        continue;
      }
      this.memberId = joined.memberId;
      const assignments = joined.leader === joined.memberId
        ? roundRobin(joined.members.map((m) => m.memberId))
        : [];
      const synced = await this.main.call(SYNC_GROUP_API, 5, {
        ...defaultSyncGroupRequest(),
        groupId: this.groupId,
        generationId: joined.generationId,
        memberId: this.memberId,
        protocolType: "consumer",
        protocolName: "roundrobin",
        assignments,
      });
      if (synced.errorCode !== ErrorCode.NONE) continue;
      const a = JSON.parse(dec.decode(synced.assignment as Uint8Array));
      this.groupSize = a.members;
      this.partitions = a.partitions;
      this.generation = joined.generationId;
      // Heartbeat until the group rebalances.
      this.rejoin = false;
      while (!this.stopped && !this.rejoin) {
        await sleep(HEARTBEAT_MS);
        if (this.stopped) return;
        const code = (await this.beats.call(HEARTBEAT_API, 4, {
          ...defaultHeartbeatRequest(),
          groupId: this.groupId,
          generationId: this.generation,
          memberId: this.memberId,
        })).errorCode;
        if (code !== ErrorCode.NONE) this.rejoin = true;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.main[Symbol.asyncDispose]();
    await this.beats[Symbol.asyncDispose]();
    await this.loop;
  }
}

function roundRobin(memberIds: string[]) {
  const sorted = [...memberIds].sort();
  return sorted.map((memberId, i) => {
    const partitions: number[] = [];
    for (let p = i; p < PARTITIONS; p += sorted.length) partitions.push(p);
    return {
      memberId,
      assignment: enc.encode(JSON.stringify({ members: sorted.length, partitions })),
    };
  });
}

/** Every member has an assignment of one generation of exactly these members, covering all. */
function classicSettled(members: ClassicMember[]): boolean {
  const gen = members[0].generation;
  const seen = new Set<number>();
  for (const m of members) {
    if (m.partitions === null || m.generation !== gen || m.groupSize !== members.length) {
      return false;
    }
    for (const p of m.partitions) seen.add(p);
  }
  return gen > 0 && seen.size === PARTITIONS;
}

// ---- KIP-848 members ----

class ConsumerMember {
  readonly memberId = crypto.randomUUID();
  epoch = 0;
  topicId = "";
  partitions: number[] | null = null;
  stopped = false;
  private loop: Promise<void> | null = null;

  private constructor(readonly groupId: string, private readonly c: WireClient) {}

  static async start(groupId: string, port: number): Promise<ConsumerMember> {
    const m = new ConsumerMember(groupId, await WireClient.connect(port));
    m.loop = m.run().catch((e) => {
      if (!m.stopped) console.error(`member ${m.memberId}: ${e}`);
    });
    return m;
  }

  private async run(): Promise<void> {
    let first = true;
    let ack = false;
    while (!this.stopped) {
      if (!first && !ack) await sleep(HEARTBEAT_MS);
      if (this.stopped) return;
      const res = await this.c.call(CONSUMER_GROUP_HEARTBEAT_API, 1, {
        ...defaultConsumerGroupHeartbeatRequest(),
        groupId: this.groupId,
        memberId: this.memberId,
        memberEpoch: this.epoch,
        rebalanceTimeoutMs: first ? REBALANCE_MS : -1,
        subscribedTopicNames: first ? [TOPIC] : null,
        topicPartitions: first
          ? []
          : ack
          ? [{ topicId: this.topicId, partitions: this.partitions ?? [] }]
          : null,
      });
      first = false;
      ack = false;
      if (res.errorCode !== ErrorCode.NONE) throw new Error(`heartbeat error ${res.errorCode}`);
      this.epoch = res.memberEpoch;
      if (res.assignment) {
        // Reconciled at once; the next heartbeat (sent now) acknowledges it.
        const tp = res.assignment.topicPartitions[0];
        if (tp) this.topicId = tp.topicId;
        this.partitions = tp ? [...tp.partitions].sort((a, b) => a - b) : [];
        ack = this.topicId !== "";
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.catch(() => {});
    await this.c[Symbol.asyncDispose]();
  }
}

/** Assignments are disjoint, cover every partition and are balanced (sizes differ by <= 1). */
function consumerSettled(members: ConsumerMember[]): boolean {
  const seen = new Set<number>();
  let min = Infinity, max = 0, total = 0;
  for (const m of members) {
    if (m.partitions === null) return false;
    for (const p of m.partitions) seen.add(p);
    total += m.partitions.length;
    min = Math.min(min, m.partitions.length);
    max = Math.max(max, m.partitions.length);
  }
  return seen.size === PARTITIONS && total === PARTITIONS && max - min <= 1;
}

// ---- scenarios ----

interface Cluster {
  label: string;
  brokers: Broker[];
  close(): Promise<void>;
}

async function cluster(
  stores: "memory" | "sqlite",
  count: number,
  delayMs: number,
): Promise<Cluster> {
  let dir: string | null = null;
  let shared: { meta: MetaStore; log: LogStore } | null = null;
  if (stores === "memory") shared = { meta: new MemoryMetaStore(), log: new MemoryLogStore() };
  else dir = await Deno.makeTempDir({ prefix: "skb-rebalance-" });
  const brokers: Broker[] = [];
  for (let i = 0; i < count; i++) {
    brokers.push(
      await startBroker({
        meta: shared?.meta ?? openMetaStore(`sqlite:${dir}/meta.db`),
        log: shared?.log ?? openLogStore(`file:${dir}/log`),
        host: "127.0.0.1",
        port: 0,
        nodeId: i,
        sweepIntervalMs: 0,
        groupInitialRebalanceDelayMs: delayMs,
      }),
    );
  }
  await using c = await WireClient.connect(brokers[0].port);
  const res = await c.call(CREATE_TOPICS_API, 7, {
    ...defaultCreateTopicsRequest(),
    timeoutMs: 5000,
    topics: [{
      ...defaultCreateTopicsRequestTopic(),
      name: TOPIC,
      numPartitions: PARTITIONS,
      replicationFactor: -1,
    }],
  });
  if (res.topics[0].errorCode !== ErrorCode.NONE) throw new Error("cannot create the topic");
  return {
    label: `${count} broker${count > 1 ? "s" : ""}, ${stores}`,
    brokers,
    async close() {
      if (shared) {
        // The stores are shared: close the brokers' listeners, then the stores once.
        for (const b of brokers.slice(1)) await b.close(5000).catch(() => {});
        await brokers[0].close(5000).catch(() => {});
      } else {
        for (const b of brokers) await b.close(5000).catch(() => {});
      }
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

const fmt = (ms: number) => Number.isNaN(ms) ? "timeout" : `${Math.round(ms)}`;
let groupSeq = 0;

/** Classic: N members form a group from empty, then one more joins. */
async function classic(cl: Cluster, n: number): Promise<[number, number]> {
  const groupId = `classic-${++groupSeq}`;
  const port = (i: number) => cl.brokers[i % cl.brokers.length].port;
  const members: ClassicMember[] = [];
  try {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) members.push(await ClassicMember.start(groupId, port(i)));
    const form = await until(t0, () => classicSettled(members));
    t0 = performance.now();
    members.push(await ClassicMember.start(groupId, port(n)));
    const grow = Number.isNaN(form) ? NaN : await until(t0, () => classicSettled(members));
    return [form, grow];
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
}

/** KIP-848: N members form a group from empty, then one more joins. */
async function kip848(cl: Cluster, n: number): Promise<[number, number]> {
  const groupId = `consumer-${++groupSeq}`;
  const port = (i: number) => cl.brokers[i % cl.brokers.length].port;
  const members: ConsumerMember[] = [];
  try {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) members.push(await ConsumerMember.start(groupId, port(i)));
    const form = await until(t0, () => consumerSettled(members));
    t0 = performance.now();
    members.push(await ConsumerMember.start(groupId, port(n)));
    const grow = Number.isNaN(form) ? NaN : await until(t0, () => consumerSettled(members));
    return [form, grow];
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
}

if (import.meta.main) {
  const started = performance.now();
  const rows: string[] = [];
  for (const stores of ["memory", "sqlite"] as const) {
    for (const count of [1, 2]) {
      for (const delay of [0, 3000]) {
        const cl = await cluster(stores, count, delay);
        try {
          for (const n of [1, 3, 20]) {
            const [form, grow] = await classic(cl, n);
            rows.push(
              `| classic | ${cl.label} | ${delay} | ${n} | ${fmt(form)} | ${fmt(grow)} |`,
            );
            console.error(rows.at(-1));
          }
          if (delay === 0) {
            // 20 -> 21 moves no partition (20 partitions): the new member gets none.
            for (const n of [1, 3, 20]) {
              const [form, grow] = await kip848(cl, n);
              rows.push(`| KIP-848 | ${cl.label} | - | ${n} | ${fmt(form)} | ${fmt(grow)} |`);
              console.error(rows.at(-1));
            }
          }
        } finally {
          await cl.close();
        }
      }
    }
  }
  console.log(
    [
      "",
      `Rebalance latency in ms (heartbeat interval ${HEARTBEAT_MS} ms, ${PARTITIONS} partitions, ` +
      `session ${SESSION_MS} ms, rebalance timeout ${REBALANCE_MS} ms)`,
      "",
      "| protocol | brokers, stores | initial delay (ms) | N | N members form from empty | N -> N+1: all have the new assignment |",
      "| -------- | --------------- | ------------------ | - | ------------------------- | ------------------------------------- |",
      ...rows,
      "",
      `total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ].join("\n"),
  );
}
