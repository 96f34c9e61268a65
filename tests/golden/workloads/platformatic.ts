/**
 * The golden-fixture workload for @platformatic/kafka (tests/golden/README.md),
 * run through tools/capture_proxy.ts:
 *   deno run -A tests/golden/workloads/platformatic.ts --bootstrap HOST:PORT [--prefix P] [--timeout-ms MS]
 *
 * Creates a topic, produces a few records with every codec (and idempotently, and
 * in transactions, one with a group's offsets), fetches without a group, consumes in a classic group and in
 * a KIP-848 consumer group and commits, lists offsets, describes and alters
 * configs, adds partitions, deletes records, lists / describes / deletes groups
 * and their offsets, then deletes the topic. Each step is reported on stderr; a
 * failing step is reported and the workload goes on (exit 1 at the end).
 */

import { Buffer } from "node:buffer";
import {
  Admin,
  type CompressionAlgorithmValue,
  Consumer,
  type Message,
  type MessageToProduce,
  Producer,
} from "@platformatic/kafka";
import { records, runSteps, workloadArgs } from "./common.ts";

const { bootstrap, prefix, timeoutMs } = workloadArgs(Deno.args, "golden-platformatic");
const topic = `${prefix}-topic`;
const group = `${prefix}-group`;
const group848 = `${prefix}-group-848`;
const CLIENT = "golden-platformatic";
const base = { bootstrapBrokers: [bootstrap], retries: 3 };
const TOPIC = 2;
const BROKER = 4;

const admin = new Admin({ clientId: `${CLIENT}-admin`, ...base });
let produced = 0;

function messages(n: number): MessageToProduce[] {
  const out = records(n, produced).map((r) => ({
    topic,
    key: r.key === null ? undefined : Buffer.from(r.key),
    value: (r.value === null ? null : Buffer.from(r.value)) as Buffer,
    headers: r.headers.length === 0
      ? undefined
      : new Map(r.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
  }));
  produced += n;
  return out;
}

async function produceWith(compression: CompressionAlgorithmValue, idempotent = false) {
  const producer = new Producer({
    clientId: `${CLIENT}-producer`,
    ...base,
    compression,
    idempotent,
  });
  try {
    await producer.send({ messages: messages(4) });
  } finally {
    await producer.close();
  }
}

/** Reads `count` records as a member of `groupId` and commits them. */
async function consumeGroup(groupId: string, protocol: "classic" | "consumer", count: number) {
  const consumer = new Consumer({
    clientId: `${CLIENT}-consumer`,
    ...base,
    groupId,
    ...(protocol === "consumer" ? { groupProtocol: "consumer" as const } : {}),
    maxWaitTime: 200,
  });
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: "committed",
      fallbackMode: "earliest",
      autocommit: false,
    });
    const last = new Map<number, Message>();
    let read = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read} of ${count}`)), timeoutMs);
      stream.on("data", (m: Message) => {
        last.set(m.partition, m);
        if (++read === count) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on("error", (e: Error) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    for (const m of last.values()) await m.commit();
    await stream.close();
  } finally {
    await consumer.close(true);
  }
}

/** A transaction that also commits the offset of a message a group member read. */
async function transactionWithOffsets() {
  const consumer = new Consumer({
    clientId: `${CLIENT}-tx-consumer`,
    ...base,
    groupId: `${prefix}-tx-group`,
    maxWaitTime: 200,
  });
  const producer = new Producer({
    clientId: `${CLIENT}-tx`,
    ...base,
    idempotent: true,
    transactionalId: `${prefix}-tx-offsets`,
  });
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: "earliest",
      autocommit: false,
    });
    const message = await new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message")), timeoutMs);
      stream.once("data", (m: Message) => {
        clearTimeout(timer);
        resolve(m);
      });
      stream.once("error", reject);
    });
    const tx = await producer.beginTransaction();
    await tx.send({ messages: messages(1) });
    await tx.addConsumer(consumer);
    await tx.addOffset(message);
    await tx.commit();
    await stream.close();
  } finally {
    await producer.close();
    await consumer.close(true);
  }
}

const ok = await runSteps([
  ["create topic", () => admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })],
  ["metadata", () => admin.metadata({ topics: [topic] })],
  ["list topics", () => admin.listTopics()],
  ...(["none", "gzip", "snappy", "lz4", "zstd"] as const).map((
    c,
  ): [string, () => Promise<unknown>] => [`produce ${c}`, () => produceWith(c)]),
  ["produce idempotent", () => produceWith("none", true)],
  [
    "produce in a transaction",
    async () => {
      const producer = new Producer({
        clientId: `${CLIENT}-tx`,
        ...base,
        idempotent: true,
        transactionalId: `${prefix}-tx`,
      });
      try {
        const tx = await producer.beginTransaction();
        await tx.send({ messages: messages(2) });
        await tx.commit();
      } finally {
        await producer.close();
      }
    },
  ],
  [
    "fetch without a group",
    async () => {
      const consumer = new Consumer({
        clientId: `${CLIENT}-fetch`,
        ...base,
        groupId: `${prefix}-unused`,
      });
      try {
        const md = await consumer.metadata({ topics: [topic] });
        const t = md.topics.get(topic)!;
        await consumer.fetch({
          node: t.partitions[0].leader,
          maxWaitTime: 100,
          topics: [{
            topicId: t.id,
            partitions: [...Array(t.partitionsCount).keys()].map((partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1_048_576,
            })),
          }],
        });
        await consumer.listOffsets({ topics: [topic], timestamp: -2n });
        await consumer.listOffsetsWithTimestamps({ topics: [topic], timestamp: -1n });
      } finally {
        await consumer.close();
      }
    },
  ],
  ["consume in a classic group and commit", () => consumeGroup(group, "classic", produced)],
  ["consume in a consumer group (KIP-848)", () => consumeGroup(group848, "consumer", produced)],
  ["transaction with offsets", () => transactionWithOffsets()],
  [
    "list offsets",
    () =>
      admin.listOffsets({
        topics: [{
          name: topic,
          partitions: [{ partitionIndex: 0, timestamp: BigInt(Date.now() - 60_000) }],
        }],
      }),
  ],
  ["list group offsets", () => admin.listConsumerGroupOffsets({ groups: [group] })],
  ["list groups", () => admin.listGroups()],
  ["describe groups", () => admin.describeGroups({ groups: [group, group848] })],
  [
    "find coordinator",
    () => admin.findCoordinator({ keyType: 0, keys: [group] }),
  ],
  [
    "describe configs",
    () =>
      admin.describeConfigs({
        resources: [
          { resourceType: TOPIC, resourceName: topic },
          { resourceType: BROKER, resourceName: "1", configurationKeys: ["log.retention.hours"] },
        ],
      }),
  ],
  [
    "alter configs",
    () =>
      admin.alterConfigs({
        resources: [{
          resourceType: TOPIC,
          resourceName: topic,
          configs: [{ name: "retention.ms", value: "86400000" }],
        }],
      }),
  ],
  [
    "incremental alter configs",
    () =>
      admin.incrementalAlterConfigs({
        resources: [{
          resourceType: TOPIC,
          resourceName: topic,
          configs: [{ name: "retention.ms", configOperation: 0, value: "3600000" }],
        }],
      }),
  ],
  ["create partitions", () => admin.createPartitions({ topics: [{ name: topic, count: 3 }] })],
  [
    "alter group offsets",
    () =>
      admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 0n }] }],
      }),
  ],
  [
    "delete group offsets",
    () =>
      admin.deleteConsumerGroupOffsets({
        groupId: group,
        topics: [{ name: topic, partitionIndexes: [1] }],
      }),
  ],
  [
    "delete records",
    () =>
      admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }],
      }),
  ],
  ["delete groups", () => admin.deleteGroups({ groups: [group, group848] })],
  ["delete topic", () => admin.deleteTopics({ topics: [topic] })],
  ["close admin", () => admin.close()],
]);
Deno.exit(ok ? 0 : 1);
