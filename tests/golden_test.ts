/**
 * Golden codec tests: request and response frames captured from real clients
 * (kafkajs, @platformatic/kafka, librdkafka, the Java client) talking to a real
 * Apache Kafka (tests/golden/README.md). For every fixture our codec must
 * (a) decode header and body consuming every byte, (b) encode the decoded
 * message back to exactly the same bytes, and (c) agree with a few facts about
 * what the client sent or the broker answered (record batches whose CRC-32C
 * verifies, the topic the workload created, records that decode, ...).
 */

import assert from "node:assert/strict";
import zlib from "node:zlib";
import type {
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorResponse,
  JoinGroupRequest,
  ListOffsetsResponse,
  MetadataResponse,
  OffsetCommitRequest,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/generated/mod.ts";
import { BATCH_HEADER_SIZE, parseBatches } from "../protocol/record_batch.ts";
import { Reader } from "../protocol/reader.ts";
import type { RecordsValue } from "../protocol/writer.ts";
import {
  codecFor,
  decodeRequestFrame,
  decodeResponseFrame,
  describeDiff,
  encodeRequestFrame,
  encodeResponseFrame,
} from "../tools/golden_frames.ts";
import type { FixtureEntry, GoldenIndex } from "../tools/select_golden.ts";

const DIR = new URL("./golden/fixtures/", import.meta.url);
const index: GoldenIndex = JSON.parse(Deno.readTextFileSync(new URL("index.json", DIR)));
const read = (file: string) => Deno.readFileSync(new URL(file, DIR));
const text = new TextDecoder();
const COMPRESSION = ["none", "gzip", "snappy", "lz4", "zstd"];
const zstd = zlib as unknown as { zstdDecompressSync(b: Uint8Array): Uint8Array };
const gunzipSync = (b: Uint8Array): Uint8Array => zlib.gunzipSync(b);

function bytesOf(r: RecordsValue): Uint8Array {
  if (r === null) return new Uint8Array(0);
  if (r instanceof Uint8Array) return r;
  throw new Error("decoded records are one array");
}

/** One decoded record, enough to check the workloads' keys and values. */
interface Rec {
  key: string | null;
  value: string | null;
  headers: string[];
}

/** Decodes the records of one batch's (decompressed) record section. */
function parseRecords(body: Uint8Array, count: number): Rec[] {
  const r = new Reader(body);
  const out: Rec[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    const end = r.pos + len;
    r.int8();
    r.varlong();
    r.varint();
    const kl = r.varint();
    const key = kl < 0 ? null : text.decode(r.raw(kl));
    const vl = r.varint();
    const value = vl < 0 ? null : text.decode(r.raw(vl));
    const headers: string[] = [];
    for (let h = r.varint(); h > 0; h--) {
      headers.push(text.decode(r.raw(r.varint())));
      const hl = r.varint();
      if (hl >= 0) r.raw(hl);
    }
    assert.equal(r.pos, end, "record length matches its contents");
    out.push({ key, value, headers });
  }
  assert.equal(r.remaining, 0, "no bytes after the last record");
  return out;
}

/**
 * Validates every batch of a record set (CRC-32C, lengths) and decodes the records of
 * uncompressed, gzip and zstd batches. Returns the records decoded and the codecs seen.
 */
function checkRecordSet(set: Uint8Array, allowPartialTail: boolean) {
  let whole = set;
  if (allowPartialTail) {
    // A fetch may end in a partial batch; parseBatches checks whole ones only.
    const v = new DataView(set.buffer, set.byteOffset, set.byteLength);
    let p = 0;
    while (p + 12 <= set.length && p + 12 + v.getInt32(p + 8) <= set.length) {
      p += 12 + v.getInt32(p + 8);
    }
    whole = set.subarray(0, p);
    if (whole.length === 0) return { records: [] as Rec[], codecs: new Set<string>(), batches: 0 };
  }
  const batches = parseBatches(whole, Number.MAX_SAFE_INTEGER);
  if (!Array.isArray(batches)) throw new Error(`record set refused: ${batches.message}`);
  const records: Rec[] = [];
  const codecs = new Set<string>();
  for (const b of batches) {
    const codec = COMPRESSION[b.attributes & 7];
    codecs.add(codec);
    if (b.isControl) continue;
    const body = b.bytes.subarray(BATCH_HEADER_SIZE);
    let plain: Uint8Array | null = null;
    if (codec === "none") plain = body;
    else if (codec === "gzip") plain = gunzipSync(body);
    else if (codec === "zstd") plain = zstd.zstdDecompressSync(body);
    if (plain) records.push(...parseRecords(plain, b.recordCount));
  }
  return { records, codecs, batches: batches.length };
}

/** The workloads' records: key-N or null, value-N... or null, headers trace and idx. */
function checkWorkloadRecords(recs: Rec[]) {
  for (const r of recs) {
    if (r.key !== null) assert.match(r.key, /^key-\d+$/);
    if (r.value !== null) assert.match(r.value, /^value-\d+/);
    assert.ok(r.headers.length === 0 || r.headers.join() === "trace,idx", r.headers.join());
  }
}

/** The compression codecs of the batches in a Produce fixture's request. */
function produceCodecs(f: FixtureEntry): Set<string> {
  const m = decodeRequestFrame(read(f.request)).body as ProduceRequest;
  const out = new Set<string>();
  for (const t of m.topicData) {
    for (const p of t.partitionData) {
      for (const c of checkRecordSet(bytesOf(p.records), false).codecs) out.add(c);
    }
  }
  return out;
}

/** Facts about one API's request or response that a correct decoding must show. */
function spotCheck(f: FixtureEntry, side: "request" | "response", body: unknown) {
  const key = `${f.api}/${side}`;
  switch (key) {
    case "Produce/request": {
      const m = body as ProduceRequest;
      assert.ok([-1, 0, 1].includes(m.acks), `acks ${m.acks}`);
      let sets = 0;
      for (const t of m.topicData) {
        assert.match(t.name, /-topic$/);
        for (const p of t.partitionData) {
          const { records, codecs, batches } = checkRecordSet(bytesOf(p.records), false);
          assert.ok(batches > 0, "a produce request carries batches");
          if (f.variant) assert.ok(codecs.has(f.variant), `${f.variant} batch in ${[...codecs]}`);
          checkWorkloadRecords(records);
          sets++;
        }
      }
      assert.ok(sets > 0);
      break;
    }
    case "Produce/response": {
      const m = body as ProduceResponse;
      for (const t of m.responses) {
        for (const p of t.partitionResponses) {
          // ZStandard needs Produce v7+: older requests get UNSUPPORTED_COMPRESSION_TYPE (76).
          if (f.version < 7 && produceCodecs(f).has("zstd")) assert.equal(p.errorCode, 76);
          else {
            assert.equal(p.errorCode, 0);
            assert.ok(p.baseOffset >= 0);
          }
        }
      }
      break;
    }
    case "Fetch/request": {
      const m = body as FetchRequest;
      assert.ok(m.maxWaitMs >= 0);
      for (const t of m.topics) for (const p of t.partitions) assert.ok(p.fetchOffset >= 0);
      break;
    }
    case "Fetch/response": {
      const m = body as FetchResponse;
      for (const t of m.responses) {
        for (const p of t.partitions) {
          const { records } = checkRecordSet(bytesOf(p.records), true);
          checkWorkloadRecords(records);
          if (records.length > 0) assert.ok(p.highWatermark > 0);
        }
      }
      break;
    }
    case "Metadata/response": {
      const m = body as MetadataResponse;
      assert.ok(m.brokers.length > 0);
      // Fixtures hold the broker's own bytes, before the proxy's address rewrite.
      for (const b of m.brokers) assert.equal(b.host, "127.0.0.1");
      for (const t of m.topics) {
        if (t.errorCode === 0) assert.ok(t.partitions.length > 0, `partitions of ${t.name}`);
      }
      break;
    }
    case "ApiVersions/response": {
      const m = body as ApiVersionsResponse;
      if (m.errorCode === 0) {
        const keys = new Set(m.apiKeys.map((k) => k.apiKey));
        for (const k of [0, 1, 3, 18]) assert.ok(keys.has(k), `API ${k} advertised`);
      } else assert.equal(m.errorCode, 35); // UNSUPPORTED_VERSION, then the client retries
      break;
    }
    case "CreateTopics/request": {
      const m = body as CreateTopicsRequest;
      assert.ok(m.topics.length > 0);
      for (const t of m.topics) assert.match(t.name, /-topic$/);
      break;
    }
    case "CreateTopics/response": {
      const m = body as CreateTopicsResponse;
      for (const t of m.topics) assert.ok([0, 36].includes(t.errorCode), `error ${t.errorCode}`);
      break;
    }
    case "ListOffsets/response": {
      const m = body as ListOffsetsResponse;
      for (const t of m.topics) for (const p of t.partitions) assert.equal(p.errorCode, 0);
      break;
    }
    case "FindCoordinator/response": {
      const m = body as FindCoordinatorResponse;
      if (f.version <= 3) {
        if (m.errorCode === 0) assert.equal(m.host, "127.0.0.1");
      } else {
        for (const c of m.coordinators) if (c.errorCode === 0) assert.equal(c.host, "127.0.0.1");
      }
      break;
    }
    case "DescribeConfigs/response": {
      const m = body as DescribeConfigsResponse;
      assert.ok(m.results.length > 0);
      for (const r of m.results) {
        if (r.errorCode === 0) assert.ok(r.configs.length > 0, `configs of ${r.resourceName}`);
      }
      break;
    }
    case "JoinGroup/request": {
      const m = body as JoinGroupRequest;
      assert.equal(m.protocolType, "consumer");
      assert.ok(m.protocols.length > 0);
      break;
    }
    case "OffsetCommit/request": {
      const m = body as OffsetCommitRequest;
      for (const t of m.topics) for (const p of t.partitions) assert.ok(p.committedOffset >= 0);
      break;
    }
  }
}

for (const f of index.fixtures) {
  const label = `${f.client} ${f.api} v${f.version}${f.variant ? ` (${f.variant})` : ""}`;

  Deno.test(`golden: ${label} request`, () => {
    const frame = read(f.request);
    const d = decodeRequestFrame(frame);
    assert.equal(d.header.apiKey, f.apiKey);
    assert.equal(d.header.apiVersion, f.version);
    assert.equal(d.header.correlationId, f.correlationId);
    assert.equal(d.header.clientId, f.clientId);
    assert.equal(d.headerTags.length, d.headerVersion === 2 ? 1 : 0, "no header tagged fields");
    assert.equal(d.consumed, frame.length, "decoding consumes every byte");
    const again = encodeRequestFrame(d);
    assert.equal(describeDiff(frame, again), null);
    spotCheck(f, "request", d.body);
  });

  if (f.response === null) continue;
  Deno.test(`golden: ${label} response`, () => {
    const frame = read(f.response!);
    // A broker answers a too-new ApiVersions request in v0 (KIP-511); fixtures hold the retry.
    const d = decodeResponseFrame(frame, f.apiKey, f.version);
    assert.equal(d.correlationId, f.correlationId);
    assert.equal(d.headerTags.length, d.headerVersion === 1 ? 1 : 0, "no header tagged fields");
    assert.equal(d.consumed, frame.length, "decoding consumes every byte");
    const again = encodeResponseFrame(d);
    assert.equal(describeDiff(frame, again), null);
    spotCheck(f, "response", d.body);
  });
}

Deno.test("golden: the index matches the fixture files", () => {
  const listed = new Set<string>();
  for (const f of index.fixtures) {
    listed.add(f.request);
    if (f.response) listed.add(f.response);
    assert.ok(codecFor(f.apiKey), `${f.api} has a codec`);
  }
  const onDisk = new Set<string>();
  for (const c of Deno.readDirSync(DIR)) {
    if (!c.isDirectory) continue;
    for (const e of Deno.readDirSync(new URL(`${c.name}/`, DIR))) onDisk.add(`${c.name}/${e.name}`);
  }
  assert.deepEqual([...onDisk].sort(), [...listed].sort());
  for (const file of onDisk) {
    assert.ok(read(file).length <= 64 * 1024, `${file} is within 64 KiB`);
  }
});

Deno.test("golden: every client sent the core APIs, a fetch with records and its topic", () => {
  const clients = new Set(index.fixtures.map((f) => f.client));
  for (const c of ["kafkajs", "platformatic", "librdkafka", "java"]) {
    assert.ok(clients.has(c), `fixtures from ${c}`);
  }
  // Each client's workload produced, fetched records and listed the topic it created.
  for (const c of clients) {
    const mine = index.fixtures.filter((f) => f.client === c);
    for (const api of ["Produce", "Fetch", "Metadata", "ApiVersions", "ListOffsets"]) {
      assert.ok(mine.some((f) => f.api === api), `${c} sent ${api}`);
    }
    const listsTopic = mine.filter((f) => f.api === "Metadata" && f.response).some((f) => {
      const d = decodeResponseFrame(read(f.response!), f.apiKey, f.version);
      return (d.body as MetadataResponse).topics.some((t) => t.name?.endsWith("-topic"));
    });
    assert.ok(listsTopic, `a ${c} metadata response lists the workload's topic`);
    const fetchesRecords = mine.filter((f) => f.api === "Fetch" && f.response).some((f) => {
      const d = decodeResponseFrame(read(f.response!), f.apiKey, f.version);
      return (d.body as FetchResponse).responses.some((t) =>
        t.partitions.some((p) => bytesOf(p.records).length > 0)
      );
    });
    assert.ok(fetchesRecords, `a ${c} fetch response carries records`);
  }
});
