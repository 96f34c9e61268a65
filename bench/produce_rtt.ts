/**
 * A broker-bound produce benchmark: a minimal idempotent producer on the broker's own codec, which
 * spends far less CPU than Kafka's ProducerPerformance, so on a small machine the broker rather
 * than the client sets the pace. Each connection keeps `--in-flight` Produce requests (acks=all)
 * outstanding, like the Java producer's max.in.flight.requests.per.connection=5; each request
 * carries `--batches-per-request` batches of `--records` records, round robin over the partitions,
 * with the sequence numbers an idempotent producer sends.
 *
 *   deno run -A bench/produce_rtt.ts --bootstrap 127.0.0.1:9092 [--topic rtt] [--partitions 1]
 *     [--connections 1] [--in-flight 5] [--batches-per-request 1] [--records 15]
 *     [--record-size 1024] [--requests 12000] [--broker-pid PID]
 *
 * Prints one JSON line: MB/s (MiB of record batches), the request round trip (send to response)
 * mean, p50 and p99 in ms, and with --broker-pid the broker's CPU milliseconds per MB (user +
 * system time from /proc). The topic is created when missing.
 */

import { parseArgs } from "node:util";
import { WireClient } from "../tests/wire_client.ts";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  INIT_PRODUCER_ID_API,
  PRODUCE_API,
  type ProduceRequestPartition,
} from "../protocol/generated/mod.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { crc32c } from "../protocol/crc32c.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";

// Where the fields an idempotent producer sets lie in a v2 record batch.
const CRC_AT = 17;
const CRC_FROM = 21;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;

const { values } = parseArgs({
  options: {
    bootstrap: { type: "string", default: "127.0.0.1:9092" },
    topic: { type: "string", default: "rtt" },
    partitions: { type: "string", default: "1" },
    connections: { type: "string", default: "1" },
    "in-flight": { type: "string", default: "5" },
    "batches-per-request": { type: "string", default: "1" },
    records: { type: "string", default: "15" },
    "record-size": { type: "string", default: "1024" },
    requests: { type: "string", default: "12000" },
    "broker-pid": { type: "string" },
  },
});
const [host, portText] = values.bootstrap.split(":");
const port = Number(portText);
const partitions = Number(values.partitions);
const connections = Number(values.connections);
const inFlight = Number(values["in-flight"]);
const perRequest = Number(values["batches-per-request"]);
const records = Number(values.records);
const requests = Number(values.requests);

const template = buildBatch(
  Array.from({ length: records }, () => ({
    key: null,
    value: new Uint8Array(Number(values["record-size"])).fill(65),
    headers: [],
  })),
  { producerId: 0, producerEpoch: 0, baseSequence: 0 },
);

function brokerCpuSeconds(): number | null {
  if (!values["broker-pid"]) return null;
  const stat = Deno.readTextFileSync(`/proc/${values["broker-pid"]}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
}

async function createTopic(): Promise<void> {
  const c = await WireClient.connect(port, host);
  try {
    const req = defaultCreateTopicsRequest();
    req.timeoutMs = 10_000;
    req.topics = [{
      ...defaultCreateTopicsRequestTopic(),
      name: values.topic,
      numPartitions: partitions,
      replicationFactor: -1,
    }];
    const res = await c.call(CREATE_TOPICS_API, 7, req);
    const code = res.topics[0].errorCode;
    if (code !== ErrorCode.NONE && code !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      throw new Error(`CreateTopics ${values.topic}: error ${code}`);
    }
  } finally {
    c.conn.close();
  }
}

/** One producer connection; resolves to the round trip of every request, in ms. */
async function producer(index: number): Promise<number[]> {
  const c = await WireClient.connect(port, host);
  const { producerId, producerEpoch } = await c.call(INIT_PRODUCER_ID_API, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  const sequences = new Array(partitions).fill(0);
  let next = index % partitions;
  const sentAt: number[] = [];
  const send = () => {
    const partitionData: ProduceRequestPartition[] = [];
    for (let k = 0; k < perRequest; k++) {
      const p = next;
      next = (next + 1) % partitions;
      const batch = template.slice();
      const v = new DataView(batch.buffer);
      v.setBigInt64(PRODUCER_ID_AT, BigInt(producerId));
      v.setInt16(PRODUCER_EPOCH_AT, producerEpoch);
      v.setInt32(BASE_SEQUENCE_AT, sequences[p]);
      sequences[p] += records;
      v.setUint32(CRC_AT, crc32c(batch.subarray(CRC_FROM)));
      partitionData.push({ index: p, records: batch });
    }
    sentAt.push(performance.now());
    return c.send(PRODUCE_API, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: values.topic, topicId: ZERO_UUID, partitionData }],
    });
  };
  const rtts: number[] = [];
  let sent = 0;
  try {
    for (; sent < Math.min(inFlight, requests); sent++) await send();
    // Responses come back in request order on one connection.
    for (let got = 0; got < requests; got++) {
      const { body } = await c.receive(PRODUCE_API, 9);
      rtts.push(performance.now() - sentAt[got]);
      for (const t of body.responses) {
        for (const p of t.partitionResponses) {
          if (p.errorCode !== ErrorCode.NONE) throw new Error(`Produce: error ${p.errorCode}`);
        }
      }
      if (sent < requests) {
        await send();
        sent++;
      }
    }
  } finally {
    c.conn.close();
  }
  return rtts;
}

await createTopic();
const cpu0 = brokerCpuSeconds();
const started = performance.now();
const rtts = (await Promise.all(Array.from({ length: connections }, (_, i) => producer(i)))).flat();
const seconds = (performance.now() - started) / 1000;
const cpu1 = brokerCpuSeconds();
rtts.sort((a, b) => a - b);
const mb = connections * requests * perRequest * template.length / 1048576;
const round = (x: number) => Math.round(x * 1000) / 1000;
console.log(JSON.stringify({
  mb_per_s: round(mb / seconds),
  rtt_mean_ms: round(rtts.reduce((a, b) => a + b, 0) / rtts.length),
  rtt_p50_ms: round(rtts[Math.floor(rtts.length * 0.5)]),
  rtt_p99_ms: round(rtts[Math.floor(rtts.length * 0.99)]),
  ...(cpu0 !== null && cpu1 !== null
    ? { broker_cpu_ms_per_mb: round((cpu1 - cpu0) * 1000 / mb) }
    : {}),
}));
