/**
 * The golden-fixture workload for kafkajs (tests/golden/README.md), run through
 * tools/capture_proxy.ts:
 *   deno run -A tests/golden/workloads/kafkajs.ts --bootstrap HOST:PORT [--prefix P] [--timeout-ms MS]
 *
 * Creates a topic, produces a few records with every codec, consumes them in a
 * group and commits, runs a transaction with offsets, lists offsets, describes
 * and alters configs, adds partitions, deletes records, lists / describes /
 * deletes groups, then deletes the topic. Each step is reported on stderr; a
 * failing step is reported and the workload goes on (exit 1 at the end).
 */

import { Buffer } from "node:buffer";
import kafkajs from "kafkajs";
import { CODEC_TYPES } from "../../clients/kafkajs_codecs.ts";
import { records, runSteps, workloadArgs } from "./common.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const { Kafka, logLevel } = kafkajs as Any;

const { bootstrap, prefix, timeoutMs } = workloadArgs(Deno.args, "golden-kafkajs");
const topic = `${prefix}-topic`;
const group = `${prefix}-group`;
const kafka = new Kafka({
  clientId: "golden-kafkajs",
  brokers: [bootstrap],
  logLevel: logLevel.NOTHING,
  retry: { retries: 3 },
});
const admin = kafka.admin();
const producer = kafka.producer();
const messages = (n: number, from: number) =>
  records(n, from).map((r) => ({
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: Object.fromEntries(r.headers.map(([k, v]) => [k, Buffer.from(v)])),
  }));

let produced = 0;
const ok = await runSteps([
  ["connect admin", () => admin.connect()],
  [
    "create topic",
    () =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
        waitForLeaders: true,
      }),
  ],
  ["describe cluster", () => admin.describeCluster()],
  ["connect producer", () => producer.connect()],
  ...Object.keys(CODEC_TYPES).map((codec): [string, () => Promise<unknown>] => [
    `produce ${codec}`,
    async () => {
      await producer.send({
        topic,
        messages: messages(4, produced),
        compression: CODEC_TYPES[codec],
      });
      produced += 4;
    },
  ]),
  [
    "produce acks=1",
    async () => {
      await producer.send({ topic, acks: 1, messages: messages(2, produced) });
      produced += 2;
    },
  ],
  ["disconnect producer", () => producer.disconnect()],
  [
    "consume in a group and commit",
    async () => {
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let read = 0;
      const last = new Map<number, string>();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${read} of ${produced}`)), timeoutMs);
        consumer.run({
          autoCommit: false,
          eachMessage: ({ partition, message }: Any) => {
            last.set(partition, message.offset);
            if (++read >= produced) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        }).catch(reject);
      });
      await consumer.commitOffsets(
        [...last].map(([partition, o]) => ({
          topic,
          partition,
          offset: String(BigInt(o) + 1n),
        })),
      );
      await consumer.disconnect();
    },
  ],
  [
    "transaction with offsets",
    async () => {
      const tx = kafka.producer({
        transactionalId: `${prefix}-tx`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await tx.connect();
      const t = await tx.transaction();
      await t.send({ topic, messages: messages(2, produced) });
      await t.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic, partitions: [{ partition: 0, offset: "1" }] }],
      });
      await t.commit();
      produced += 2;
      await tx.disconnect();
    },
  ],
  ["fetch topic offsets", () => admin.fetchTopicOffsets(topic)],
  [
    "fetch topic offsets by timestamp",
    () => admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000),
  ],
  ["fetch group offsets", () => admin.fetchOffsets({ groupId: group, topics: [topic] })],
  ["list groups", () => admin.listGroups()],
  ["describe groups", () => admin.describeGroups([group])],
  [
    "describe configs",
    () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: 2, name: topic },
          { type: 4, name: "1", configNames: ["log.retention.hours"] },
        ],
      }),
  ],
  [
    "alter configs",
    () =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{
          type: 2,
          name: topic,
          configEntries: [{ name: "retention.ms", value: "86400000" }],
        }],
      }),
  ],
  ["create partitions", () => admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })],
  [
    "reset group offsets",
    () => admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "0" }] }),
  ],
  [
    "delete records",
    () => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "1" }] }),
  ],
  ["delete groups", () => admin.deleteGroups([group])],
  ["delete topic", () => admin.deleteTopics({ topics: [topic] })],
  ["disconnect admin", () => admin.disconnect()],
]);
Deno.exit(ok ? 0 : 1);
