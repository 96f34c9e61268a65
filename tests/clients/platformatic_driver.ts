/**
 * Interop driver for @platformatic/kafka (tests/clients/CONTRACT.md), run under Deno:
 *   deno run -A tests/clients/platformatic_driver.ts produce|consume|offsets ...
 *
 * The client brings every codec without native addons (snappy and LZ4 in
 * WebAssembly, gzip and ZStandard from node:zlib).
 *
 * `consume` without --group uses the client's group-less Consumer.fetch() on
 * every partition's leader from offset 0 (an "assign"); with --group it uses the
 * client's group consumer stream (committed offsets, falling back to earliest).
 */

import { Buffer } from "node:buffer";
import {
  Admin,
  Consumer,
  defaultPartitioner,
  findErrorBy,
  type Message,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from "@platformatic/kafka";
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
  watchdog,
} from "./driver_common.ts";

const CLIENT = "interop-platformatic";

/** The security flags of this run (CONTRACT.md "Security"), set before any client is made. */
// deno-lint-ignore prefer-const
let SECURITY: SecurityArgs; // assigned once the command line is parsed, at the bottom

/** The client's `tls` and `sasl` options for the security flags (spread into every client). */
function sec(): {
  tls?: Record<string, string>;
  sasl?: { mechanism: SecurityArgs["mechanism"]; username: string; password: string };
} {
  const o: ReturnType<typeof sec> = {};
  const tls = tlsOptions(SECURITY);
  if (tls !== null) o.tls = tls;
  if (SECURITY.protocol === "SASL_SSL" || SECURITY.protocol === "SASL_PLAINTEXT") {
    o.sasl = {
      mechanism: SECURITY.mechanism,
      username: SECURITY.username!,
      password: SECURITY.password!,
    };
  }
  return o;
}

/** Every error inside e: its causes and, for the client's MultipleErrors, its errors. */
function* errorTree(e: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (!e || typeof e !== "object" || depth > 8) return;
  const r = e as Record<string, unknown>;
  yield r;
  yield* errorTree(r.cause, depth + 1);
  if (Array.isArray(r.errors)) { for (const x of r.errors) yield* errorTree(x, depth + 1); }
}

/**
 * The error line's kind: the client's AuthenticationError (PLT_KFK_AUTHENTICATION) or a
 * SASL_AUTHENTICATION_FAILED response for a refused login, node:tls errors for a handshake,
 * its NetworkError or the connect deadline for a broker that hangs up or never answers.
 */
function securityKind(e: unknown): [string, string] | null {
  let network: [string, string] | null = null;
  for (const c of errorTree(e)) {
    const text = `${c.message ?? ""} ${c.code ?? ""}`;
    if (c.code === "PLT_KFK_AUTHENTICATION" || c.apiId === "SASL_AUTHENTICATION_FAILED") {
      return ["authentication", String(c.apiId ?? c.code)];
    }
    if (/SSL|TLS|certificate|CERT_|self.signed/i.test(text)) {
      return ["tls", String(c.code ?? c.name)];
    }
    if (c.securityKind) network ??= [String(c.securityKind), "timeout"];
    if (c.code === "PLT_KFK_NETWORK") network ??= ["connection", String(c.code)];
  }
  return network;
}

function reportSecurity(e: unknown): boolean {
  const k = securityKind(e);
  if (k === null) return false;
  printSecurityError(k[0], k[1], String((e as Error)?.message));
  return true;
}

/** CONTRACT.md "Security": the cluster answers a Metadata request within the connect timeout. */
async function checkConnection(bootstrap: string): Promise<boolean> {
  const admin = new Admin({
    clientId: `${CLIENT}-check`,
    bootstrapBrokers: bootstrap.split(","),
    retries: 1,
    ...sec(),
  });
  try {
    await Promise.race([
      admin.metadata({ topics: [] }),
      connectDeadline(SECURITY.connectTimeoutMs),
    ]);
    return true;
  } catch (e) {
    log("connection check failed:", e);
    if (!reportSecurity(e)) {
      printSecurityError("connection", "unknown", String((e as Error)?.message));
    }
    return false;
  } finally {
    admin.close().catch(() => {});
  }
}
const IS_CONTROL = 0x20;
const LOG_APPEND_TIME = 0x08;

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({
    clientId: `${CLIENT}-admin`,
    bootstrapBrokers: bootstrap.split(","),
    ...sec(),
  });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    log(`created topic ${topic} with ${partitions} partitions`);
  } catch (e) {
    if (findErrorBy(e as Error, "apiId", "TOPIC_ALREADY_EXISTS")) {
      log(`topic ${topic} already exists`);
    } else throw e;
  } finally {
    await admin.close();
  }
  await waitReady(bootstrap, topic, partitions);
}

/**
 * Waits until every partition of a new topic answers ListOffsets. Right after CreateTopics a
 * broker may still refuse writes to some partitions, and this client retries a failed produce
 * request as a whole, writing the partitions that had succeeded twice.
 */
async function waitReady(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const consumer = new Consumer({
    clientId: `${CLIENT}-ready`,
    bootstrapBrokers: bootstrap.split(","),
    ...sec(),
    groupId: `interop-throwaway-${crypto.randomUUID()}`,
  });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const latest = (await consumer.listOffsets({ topics: [topic], timestamp: -1n })).get(topic);
        if (latest && latest.length >= partitions && latest.every((o) => o >= 0n)) return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} not ready after 30 s`);
      consumer.clearMetadata();
      await sleep(100);
    }
  } finally {
    await consumer.close();
  }
}

async function produce(args: ProduceArgs): Promise<number> {
  if (args.createPartitions > 0) {
    await createTopic(args.bootstrap, args.topic, args.createPartitions);
  }
  // The client's default partitioning (murmur2 of the key, round robin for null
  // keys), restated as a partitioner so that the driver sees where each record goes.
  const raw = new WeakMap<object, number>();
  let roundRobin = 0;
  const producer = new Producer({
    clientId: `${CLIENT}-producer`,
    bootstrapBrokers: args.bootstrap.split(","),
    ...sec(),
    compression: args.compression,
    ...(args.acks === null ? {} : {
      acks: args.acks === "all"
        ? ProduceAcks.ALL
        : args.acks === "1"
        ? ProduceAcks.LEADER
        : ProduceAcks.NO_RESPONSE,
    }),
    partitioner: (message, key) => {
      const p = key ? defaultPartitioner(message, key) : roundRobin++;
      raw.set(message, p);
      return p;
    },
  });
  let acked = 0;
  let errors = 0;
  try {
    const md = await producer.metadata({ topics: [args.topic] });
    const partitions = md.topics.get(args.topic)!.partitionsCount;
    const CHUNK = 1000;
    for (let first = args.start; first < args.start + args.count; first += CHUNK) {
      const last = Math.min(first + CHUNK, args.start + args.count);
      const messages: MessageToProduce[] = [];
      for (let i = first; i < last; i++) {
        const r = contractRecord(i);
        messages.push({
          topic: args.topic,
          key: r.key ?? undefined,
          value: r.value as Buffer, // null is sent as a null value
          headers: r.headers.length === 0
            ? undefined
            : new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])),
        });
      }
      try {
        const result = await producer.send({ messages });
        const base = new Map<number, number>();
        for (const o of result.offsets ?? []) base.set(o.partition, Number(o.offset));
        const next = new Map<number, number>();
        for (let j = 0; j < messages.length; j++) {
          const p = raw.get(messages[j])! % partitions;
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
    await producer.close();
  }
  out({ done: true, count: acked, errors });
  return acked === args.count && errors === 0 ? 0 : 1;
}

function printMessage(
  p: number,
  o: bigint,
  k: unknown,
  v: unknown,
  h: [unknown, unknown][],
  ts: bigint,
  at?: number,
): void {
  out({
    p,
    o: Number(o),
    k: b64(k as Buffer | null | undefined),
    v: b64(v as Buffer | null | undefined),
    h: h.map((
      [name, value],
    ) => [(name as Buffer).toString("utf8"), b64(value as Buffer | null | undefined)]),
    ts: Number(ts),
    ...(at === undefined ? {} : { at }),
  });
}

/** Group-less read of every partition from offset 0 through Consumer.fetch(). */
async function consumeAssigned(args: ConsumeArgs, deadline: number): Promise<number> {
  const consumer = new Consumer({
    clientId: `${CLIENT}-consumer`,
    bootstrapBrokers: args.bootstrap.split(","),
    ...sec(),
    groupId: `interop-throwaway-${crypto.randomUUID()}`,
  });
  let read = 0;
  try {
    const md = await consumer.metadata({ topics: [args.topic] });
    const topic = md.topics.get(args.topic)!;
    const position = new Map<number, bigint>();
    const byLeader = new Map<number, number[]>();
    for (let p = 0; p < topic.partitionsCount; p++) {
      position.set(p, 0n);
      const leader = topic.partitions[p].leader;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    while (read < args.count && Date.now() < deadline) {
      let got = 0;
      for (const [node, parts] of byLeader) {
        const response = await consumer.fetch({
          node,
          maxWaitTime: 500,
          topics: [{
            topicId: topic.id,
            partitions: parts.map((partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: position.get(partition)!,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1_048_576,
            })),
          }],
        });
        for (const t of response.responses) {
          for (const part of t.partitions) {
            if (part.errorCode !== 0) {
              log(`fetch partition ${part.partitionIndex}: error code ${part.errorCode}`);
              continue;
            }
            for (const batch of part.records ?? []) {
              const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
              if (batch.attributes & IS_CONTROL) {
                if (end > position.get(part.partitionIndex)!) {
                  position.set(part.partitionIndex, end);
                }
                continue;
              }
              for (const r of batch.records) {
                const offset = batch.firstOffset + BigInt(r.offsetDelta);
                if (offset < position.get(part.partitionIndex)! || read >= args.count) continue;
                const ts = batch.attributes & LOG_APPEND_TIME
                  ? batch.maxTimestamp
                  : batch.firstTimestamp + r.timestampDelta;
                printMessage(part.partitionIndex, offset, r.key, r.value, r.headers, ts);
                read++;
                progress.count++;
                got++;
              }
              if (end > position.get(part.partitionIndex)!) position.set(part.partitionIndex, end);
            }
          }
        }
      }
      if (got === 0) await sleep(50);
    }
  } finally {
    await consumer.close();
  }
  return read;
}

/**
 * A member of group G (CONTRACT.md, "Group members"): the client's consumer stream from the
 * committed offsets (earliest when none). The stream hands over one message at a time, so the
 * position after what was printed is committed every 200 ms.
 */
async function consumeGroup(args: ConsumeArgs, group: string, deadline: number): Promise<number> {
  if (args.assignor !== null) {
    log(`the driver does not choose assignors for @platformatic/kafka (asked: ${args.assignor})`);
    Deno.exit(2);
  }
  const consumer = new Consumer({
    clientId: `${CLIENT}-member`,
    bootstrapBrokers: args.bootstrap.split(","),
    ...sec(),
    groupId: group,
    ...(args.groupProtocol === "consumer" ? { groupProtocol: "consumer" as const } : {}),
  });
  let read = 0;
  let stopping = false;
  /** Partition -> next offset: printed, not yet committed. */
  const pending = new Map<number, bigint>();
  let committing: Promise<void> = Promise.resolve();
  const commit = () =>
    committing = committing.then(async () => {
      if (pending.size === 0) return;
      // Only partitions this member still owns: a commit under the current generation for a
      // partition that moved on would overwrite its new owner's position.
      const owned = new Set(
        (consumer.assignments ?? []).filter((a) => a.topic === args.topic).flatMap((a) =>
          a.partitions
        ),
      );
      const offsets = [...pending].filter(([p]) => owned.has(p)).sort((a, b) => a[0] - b[0]);
      pending.clear();
      if (offsets.length === 0) return;
      try {
        await consumer.commit({
          offsets: offsets.map(([partition, offset]) => ({
            topic: args.topic,
            partition,
            offset,
            leaderEpoch: -1,
          })),
        });
        out({ commit: offsets.map(([p, o]) => [p, Number(o)]), at: nowMs() });
      } catch (e) {
        // The records may be read again by whoever owns the partitions next.
        log(`commit of ${offsets.map(([p, o]) => `${p}:${o}`).join(" ")} failed:`, e);
      }
      flush();
    });
  // Hand over what was printed as soon as a rebalance starts (best effort: the client does not
  // wait for it before revoking).
  consumer.on("consumer:group:rebalance", () => commit());
  try {
    const stream = await consumer.consume({
      topics: [args.topic],
      mode: "committed",
      fallbackMode: "earliest",
      autocommit: false,
    });
    await new Promise<void>((resolve, reject) => {
      const ticker = setInterval(() => {
        if (stopRequested(args.stopFile) || Date.now() > deadline) done();
        else commit();
      }, 200);
      const done = () => {
        stopping = true;
        clearInterval(ticker);
        resolve();
      };
      stream.on("data", (m: Message) => {
        if (stopping || read >= args.count) return;
        printMessage(m.partition, m.offset, m.key, m.value, m.headerEntries, m.timestamp, nowMs());
        pending.set(m.partition, m.offset + 1n);
        read++;
        progress.count++;
        if (read >= args.count) done();
      });
      stream.on("error", (e: Error) => {
        clearInterval(ticker);
        reject(e);
      });
    });
    await commit();
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return read;
}

async function consume(args: ConsumeArgs): Promise<number> {
  const deadline = Date.now() + args.timeoutMs;
  const read = args.group === null
    ? await consumeAssigned(args, deadline)
    : await consumeGroup(args, args.group, deadline);
  out({ done: true, count: read });
  return read >= args.count || stopRequested(args.stopFile) ? 0 : 1;
}

async function offsets(args: OffsetsArgs): Promise<number> {
  const consumer = new Consumer({
    clientId: `${CLIENT}-offsets`,
    bootstrapBrokers: args.bootstrap.split(","),
    ...sec(),
    groupId: `interop-throwaway-${crypto.randomUUID()}`,
  });
  try {
    const list = async (timestamp: bigint) =>
      (await consumer.listOffsets({ topics: [args.topic], timestamp })).get(args.topic)!;
    const earliest = await list(-2n);
    const latest = await list(-1n);
    const byTs = await list(BigInt(args.timestamp));
    for (let p = 0; p < latest.length; p++) {
      const t = Number(byTs[p] ?? -1n);
      out({
        p,
        earliest: Number(earliest[p]),
        latest: Number(latest[p]),
        byTimestamp: t >= 0 ? t : -1,
      });
    }
  } finally {
    await consumer.close();
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
    : args.cmd === "offsets"
    ? await offsets(args)
    : (log("@platformatic/kafka has no txn command here"), 2);
} catch (e) {
  log(`${args.cmd} failed:`, e);
  finalLineAfterFailure(args);
  reportSecurity(e);
  code = 1;
}
exit(code);
