/**
 * Interop driver for kafkajs (tests/clients/CONTRACT.md), run under Deno:
 *   deno run -A tests/clients/kafkajs_driver.ts produce|consume|offsets ...
 *
 * Codecs: gzip is built into kafkajs; snappy comes from the kafkajs-snappy codec
 * (pure JavaScript). kafkajs's own LZ4 and ZStandard codec packages need native
 * addons, so those two are registered here from pure pieces instead: LZ4 frames
 * built from lz4js's block compressor, ZStandard through node:zlib (built into Deno).
 *
 * kafkajs has no consumer outside a group, so `consume` without --group joins a
 * fresh random group that reads from the beginning and commits nothing.
 */

import type { Buffer } from "node:buffer";
import kafkajs from "kafkajs";
import { CODEC_TYPES } from "./kafkajs_codecs.ts";
import {
  b64,
  connectDeadline,
  type ConsumeArgs,
  contractRecord,
  exit,
  finalLineAfterFailure,
  flush,
  log,
  nowMs,
  type OffsetsArgs,
  out,
  parseArgs,
  printSecurityError,
  type ProduceArgs,
  progress,
  type SecurityArgs,
  sleep,
  stopRequested,
  tlsOptions,
  type TxnArgs,
  watchdog,
} from "./driver_common.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const { Kafka, Partitioners, logLevel } = kafkajs as Any;

const LEVEL_NAMES: Record<number, string> = { 1: "ERROR", 2: "WARN", 4: "INFO", 5: "DEBUG" };

/** The security flags of this run (CONTRACT.md "Security"), set before any client is made. */
// deno-lint-ignore prefer-const
let SECURITY: SecurityArgs; // assigned once the command line is parsed, at the bottom

/** kafkajs's `ssl` and `sasl` client options for the security flags. */
function securityOptions(sec: SecurityArgs): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const tls = tlsOptions(sec);
  if (tls !== null) o.ssl = tls;
  if (sec.protocol === "SASL_SSL" || sec.protocol === "SASL_PLAINTEXT") {
    o.sasl = {
      mechanism: sec.mechanism.toLowerCase(), // kafkajs: plain, scram-sha-256, scram-sha-512
      username: sec.username,
      password: sec.password,
    };
  }
  return o;
}

/**
 * The error line's kind for a kafkajs error: KafkaJSSASLAuthenticationError for a refused
 * login, a TLS error (node:tls codes, "secure TLS connection") for a failed handshake,
 * KafkaJSConnectionError or the connect deadline for a broker that hangs up or never answers.
 */
function securityKind(e: Any): string | null {
  for (let c = e; c; c = c.cause ?? c.originalError) {
    const name = String(c.name ?? "");
    const text = `${c.message ?? ""} ${c.code ?? ""}`;
    if (name === "KafkaJSSASLAuthenticationError") return "authentication";
    if (/SSL|TLS|certificate|CERT_|self.signed/i.test(text)) return "tls";
    if (c.securityKind) return c.securityKind;
    if (name === "KafkaJSConnectionError" || name === "KafkaJSNumberOfRetriesExceeded") {
      return "connection";
    }
  }
  return null;
}

function errorClass(e: Any): string {
  for (let c = e; c; c = c.cause ?? c.originalError) {
    if (String(c.name) === "KafkaJSSASLAuthenticationError") return c.name;
  }
  return String(e?.name ?? "Error");
}

/** CONTRACT.md "Security": the cluster answers DescribeCluster within the connect timeout. */
async function checkConnection(bootstrap: string): Promise<boolean> {
  const admin = client(bootstrap, "interop-kafkajs-check").admin();
  try {
    await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      connectDeadline(SECURITY.connectTimeoutMs),
    ]);
    return true;
  } catch (e) {
    log("connection check failed:", e);
    printSecurityError(securityKind(e) ?? "connection", errorClass(e), String((e as Any)?.message));
    return false;
  } finally {
    admin.disconnect().catch(() => {});
  }
}

function client(bootstrap: string, clientId: string) {
  return new Kafka({
    clientId,
    brokers: bootstrap.split(","),
    ...securityOptions(SECURITY),
    logLevel: Deno.env.get("KAFKAJS_DEBUG") ? logLevel.DEBUG : logLevel.WARN,
    // kafkajs logs to stdout by default; diagnostics belong on stderr.
    logCreator: () => ({ namespace, level, log: entry }: Any) => {
      const { message, ...rest } = entry;
      log(
        `[kafkajs ${LEVEL_NAMES[level] ?? level}] ${namespace}: ${message} ${JSON.stringify(rest)}`,
      );
    },
  });
}

async function produce(args: ProduceArgs): Promise<number> {
  const kafka = client(args.bootstrap, "interop-kafkajs-producer");
  if (args.createPartitions > 0) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic: args.topic, numPartitions: args.createPartitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      log(created ? `created topic ${args.topic}` : `topic ${args.topic} already exists`);
      // Every partition answers ListOffsets before the first write: right after CreateTopics a
      // broker may still refuse some partitions, and a retried produce request rewrites the
      // partitions that had succeeded.
      await admin.fetchTopicOffsets(args.topic);
    } finally {
      await admin.disconnect();
    }
  }

  // The default partitioner, watched: it says where each message goes.
  const partitionOf = new WeakMap<object, number>();
  const producer = kafka.producer({
    createPartitioner: () => {
      const inner = Partitioners.DefaultPartitioner();
      return (a: Any) => {
        const p = inner(a);
        partitionOf.set(a.message, p);
        return p;
      };
    },
  });
  await producer.connect();
  const acks = args.acks === null ? undefined : args.acks === "all" ? -1 : Number(args.acks);
  let acked = 0;
  let errors = 0;
  const CHUNK = 1000;
  try {
    for (let first = args.start; first < args.start + args.count; first += CHUNK) {
      const last = Math.min(first + CHUNK, args.start + args.count);
      const messages = [];
      for (let i = first; i < last; i++) {
        const r = contractRecord(i);
        const headers: Record<string, Buffer> = {};
        for (const [k, v] of r.headers) headers[k] = v;
        messages.push({ key: r.key, value: r.value, headers });
      }
      try {
        const result = await producer.send({
          topic: args.topic,
          messages,
          compression: CODEC_TYPES[args.compression],
          ...(acks === undefined ? {} : { acks }),
        });
        const base = new Map<number, number>();
        for (const m of result) base.set(m.partition, Number(m.baseOffset));
        const next = new Map<number, number>();
        for (let j = 0; j < messages.length; j++) {
          const p = partitionOf.get(messages[j])!;
          const rank = next.get(p) ?? 0;
          next.set(p, rank + 1);
          const b = base.get(p);
          out({ i: first + j, p, o: b === undefined || b < 0 ? -1 : b + rank });
          acked++;
          progress.count++;
        }
      } catch (e) {
        errors += last - first;
        log(`records ${first}..${last - 1}: send failed:`, e);
      }
    }
  } finally {
    await producer.disconnect();
  }
  out({ done: true, count: acked, errors });
  return acked === args.count && errors === 0 ? 0 : 1;
}

/** The JSON line of a consumed message. */
function messageLine(partition: number, message: Any): Record<string, unknown> {
  const h: [string, string | null][] = [];
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      h.push([name, b64(v as Buffer | null)]);
    }
  }
  return {
    p: partition,
    o: Number(message.offset),
    k: b64(message.key),
    v: b64(message.value),
    h,
    ts: Number(message.timestamp),
  };
}

/**
 * A member of group G (CONTRACT.md, "Group members"): prints each batch, then commits the
 * position after it. kafkajs has only its round-robin assignor and the classic protocol.
 */
async function consumeGroup(args: ConsumeArgs, groupId: string): Promise<number> {
  if (args.groupProtocol !== "classic") {
    log(`kafkajs has no ${args.groupProtocol} group protocol (KIP-848)`);
    return 2;
  }
  if (args.assignor !== null && args.assignor !== "roundrobin") {
    log(`kafkajs has no ${args.assignor} assignor (only roundrobin)`);
    return 2;
  }
  const kafka = client(args.bootstrap, "interop-kafkajs-member");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  let read = 0;
  let stopped = false;
  let finishing = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, args.timeoutMs);
  const stopWatch = setInterval(() => {
    if (stopRequested(args.stopFile)) {
      stopped = true;
      finish();
    }
  }, 100);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }: Any) => {
        let next: bigint | null = null;
        for (const message of batch.messages) {
          if (finishing || read >= args.count) break;
          out({ ...messageLine(batch.partition, message), at: nowMs() });
          // Where this member's fetching resumes (commits are separate, below).
          resolveOffset(message.offset);
          next = BigInt(message.offset) + 1n;
          read++;
          progress.count++;
        }
        if (next !== null) {
          try {
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: String(next) },
            ]);
            out({ commit: [[batch.partition, Number(next)]], at: nowMs() });
          } catch (e) {
            // The records may be read again by whoever owns the partition next.
            log(`commit of partition ${batch.partition} at ${next} failed:`, e);
          }
          flush();
        }
        if (read >= args.count) finish();
      },
    });
    await finished;
    finishing = true;
  } finally {
    clearTimeout(timer);
    clearInterval(stopWatch);
    // Leaves the group; waits for the batch in flight (already committed above).
    await consumer.disconnect();
  }
  out({ done: true, count: read });
  return read >= args.count || stopped ? 0 : 1;
}

async function consume(args: ConsumeArgs): Promise<number> {
  if (args.group !== null) return await consumeGroup(args, args.group);
  const kafka = client(args.bootstrap, "interop-kafkajs-consumer");
  const groupId = `interop-throwaway-${crypto.randomUUID()}`;
  // A short long-poll: disconnect() waits for the fetch in flight (kafkajs's default is 5 s).
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 500,
    ...(args.isolation ? { readUncommitted: args.isolation === "read_uncommitted" } : {}),
  });
  let read = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, args.timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }: Any) => {
        if (read >= args.count) return Promise.resolve();
        out(messageLine(partition, message));
        read++;
        progress.count++;
        if (read >= args.count) finish();
        return Promise.resolve();
      },
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  out({ done: true, count: read });
  return read >= args.count ? 0 : 1;
}

/** The error a failed call reports: kafkajs's protocol error type, through its retry wrapper. */
function errorName(e: Any): string {
  for (let c = e; c; c = c.cause ?? c.originalError) if (c.type) return String(c.type);
  return String(e?.name ?? e);
}

/**
 * Consume-transform-produce in transactions (CONTRACT.md "Transactions"): each kafkajs batch,
 * in pieces of at most 100 records, becomes one transaction with the group's offsets in it.
 */
async function txn(args: TxnArgs): Promise<number> {
  const kafka = client(args.bootstrap, "interop-kafkajs-txn");
  const admin = kafka.admin();
  await admin.connect();
  const outParts = (await admin.fetchTopicOffsets(args.output)).map((m: Any) => m.partition)
    .sort((a: number, b: number) => a - b);
  const inParts = (await admin.fetchTopicOffsets(args.input)).map((m: Any) => m.partition)
    .sort((a: number, b: number) => a - b);
  await admin.disconnect();
  const producer = kafka.producer({
    transactionalId: args.txnId,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: args.group, maxWaitTimeInMs: 500 });
  let read = 0;
  let commits = 0;
  let aborts = 0;
  let finishing = false;
  const seen = new Set<number>();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, args.timeoutMs);
  const abortOne = async (parts: number[]) => {
    const tx = await producer.transaction();
    await tx.send({
      topic: args.output,
      messages: outParts.map((p: number) => ({ partition: p, value: `aborted:${aborts}:${p}` })),
    });
    if (parts.length) {
      await tx.sendOffsets({
        consumerGroupId: args.group,
        topics: [{
          topic: args.input,
          partitions: parts.map((p) => ({ partition: p, offset: "1" })),
        }],
      });
    }
    await tx.abort();
    aborts++;
    out({ abort: outParts.length });
    flush();
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [args.input], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }: Any) => {
        const p = batch.partition;
        for (let from = 0; from < batch.messages.length; from += 100) {
          if (finishing || read >= args.count) break;
          const chunk = batch.messages.slice(from, from + 100);
          const next = Number(chunk[chunk.length - 1].offset) + 1;
          const tx = await producer.transaction();
          try {
            await tx.send({
              topic: args.output,
              messages: chunk.map((m: Any) => ({
                partition: p,
                key: m.key,
                value: `${p}:${m.offset}`,
              })),
            });
            await tx.sendOffsets({
              consumerGroupId: args.group,
              topics: [{ topic: args.input, partitions: [{ partition: p, offset: String(next) }] }],
            });
            await tx.commit();
          } catch (e) {
            log(`a transaction of partition ${p} failed:`, e);
            await tx.abort().catch(() => {});
            throw e;
          }
          resolveOffset(chunk[chunk.length - 1].offset);
          seen.add(p);
          read += chunk.length;
          commits++;
          out({ commit: [[p, next]], records: chunk.length });
          flush();
          if (args.abortEvery > 0 && commits % args.abortEvery === 0) await abortOne([p]);
          await heartbeat();
        }
        if (read >= args.count) finish();
      },
    });
    await finished;
    finishing = true;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  if (read >= args.count) await abortOne([...seen].sort((a, b) => a - b));
  let fenced: string | null = null;
  if (args.holdFile !== null) {
    const tx = await producer.transaction();
    await tx.send({
      topic: args.output,
      messages: outParts.map((p: number) => ({ partition: p, value: `held:${p}` })),
    });
    // Offsets the fencing must discard with the rest.
    await tx.sendOffsets({
      consumerGroupId: args.group,
      topics: [{
        topic: args.input,
        partitions: inParts.map((p: number) => ({ partition: p, offset: "1" })),
      }],
    });
    out({ held: true });
    flush();
    while (!stopRequested(args.holdFile)) await sleep(50);
    try {
      await tx.commit();
      log("the held transaction committed: the producer was not fenced");
    } catch (e) {
      fenced = errorName(e);
      out({ fenced });
    }
  }
  await producer.disconnect();
  out({ done: true, count: read, commits, aborts });
  return read >= args.count && (args.holdFile === null || fenced !== null) ? 0 : 1;
}

async function offsets(args: OffsetsArgs): Promise<number> {
  const kafka = client(args.bootstrap, "interop-kafkajs-admin");
  const admin = kafka.admin();
  await admin.connect();
  try {
    const marks = await admin.fetchTopicOffsets(args.topic);
    const byTs = await admin.fetchTopicOffsetsByTimestamp(args.topic, args.timestamp);
    for (const m of [...marks].sort((a: Any, b: Any) => a.partition - b.partition)) {
      const latest = Number(m.high);
      let t = Number(byTs.find((x: Any) => x.partition === m.partition)?.offset ?? -1);
      // kafkajs answers "no such record" with the high watermark; the contract wants -1.
      if (t >= latest) t = -1;
      out({ p: m.partition, earliest: Number(m.low), latest, byTimestamp: t });
    }
  } finally {
    await admin.disconnect();
  }
  out({ done: true });
  return 0;
}

const args = parseArgs(Deno.args);
SECURITY = args.security;
watchdog(args);
let code = 1;
try {
  if (SECURITY.protocol !== null && !(await checkConnection(args.bootstrap))) exit(1);
  code = args.cmd === "produce"
    ? await produce(args)
    : args.cmd === "consume"
    ? await consume(args)
    : args.cmd === "txn"
    ? await txn(args)
    : await offsets(args);
} catch (e) {
  log(`${args.cmd} failed:`, e);
  finalLineAfterFailure(args);
  const kind = securityKind(e);
  if (kind !== null) printSecurityError(kind, errorClass(e), String((e as Any)?.message));
  code = 1;
}
exit(code);
