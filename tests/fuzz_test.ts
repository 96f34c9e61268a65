/**
 * A structure-aware fuzzer (issue 16). For every API and version in the
 * handler table it builds valid requests from our message definitions
 * (protocol/messages) with fast-check, mutates some of them (bit flips,
 * truncations, huge lengths and counts, overflowing varints, spliced bytes),
 * and sends them over TCP to a broker process while a well-behaved producer
 * writes to a canary topic on its own connection.
 *
 * The expected outcome of every frame is computed with the same codec the
 * broker uses: a frame that decodes into a served version must be answered
 * (with its correlation id), a Produce with acks=0 must not be, and anything
 * else must close that one connection. At the end: the canary reads back byte
 * for byte, the broker never logged at error level, and its resident memory
 * stayed within a bound.
 *
 * Deterministic: SKB_FUZZ_SEED (default below) and SKB_FUZZ_CASES (values per
 * API version) choose the run; a failure prints both.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { handlerTable } from "../handlers/dispatch.ts";
import type { Handler } from "../handlers/types.ts";
import type { ApiDef, FieldDef } from "../protocol/schema.ts";
import { parseVersions } from "../protocol/schema.ts";
import { Reader, uuidToString, ZERO_UUID } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { decodeRequestHeaderPrefix, encodeRequestHeader } from "../protocol/header.ts";
import { requestHeaderFlexible } from "../protocol/frame.ts";
import { PRODUCE_API } from "../protocol/generated/mod.ts";
import { spawnBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { batchOf, createTopic, fetchedRecords, fetchPartition, produceAll } from "./helpers.ts";

const SEED = Number(Deno.env.get("SKB_FUZZ_SEED") ?? "20261207");
const CASES = Number(Deno.env.get("SKB_FUZZ_CASES") ?? "4");
/** Mutated variants sent for each valid request. */
const MUTANTS = 2;
/** Values that name things that exist, so that valid requests reach past the lookups. */
const TOPICS = ["fuzz-t0", "fuzz-t1"];
const GROUPS = ["fuzz-g0", "fuzz-g1"];
const CANARY = "canary-9f3c1e";
/** How long a frame that must be answered may take (long polls are kept short below). */
const ANSWER_MS = 10_000;
/** Broker RSS may grow by at most this much over the run (issue 16: bounded memory). */
const RSS_GROWTH_BOUND = 200 * 1024 * 1024;

/** Our message definitions by API key. */
async function definitions(): Promise<Map<number, ApiDef>> {
  const out = new Map<number, ApiDef>();
  const dir = new URL("../protocol/messages/", import.meta.url);
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    const mod = await import(new URL(e.name, dir).href);
    const def = mod.default as ApiDef | undefined;
    if (def && typeof def.apiKey === "number") out.set(def.apiKey, def);
  }
  return out;
}

function inVersions(spec: string | undefined, v: number): boolean {
  if (spec === undefined) return false;
  const r = parseVersions(spec);
  return r !== null && v >= r[0] && v <= r[1];
}

/** Timeouts and waits stay short, so that a valid request is answered within ANSWER_MS. */
const WAITS = /timeout|wait|delay|lifetime|duration|linger/i;

interface Pools {
  topicIds: string[];
}

/** An arbitrary for one field's value in one version. */
function fieldArb(f: FieldDef, v: number, pools: Pools): fc.Arbitrary<unknown> {
  const nullable = inVersions(f.nullableVersions, v);
  let arb: fc.Arbitrary<unknown>;
  if (f.type === "struct") {
    arb = structArb(f.fields ?? [], v, pools);
  } else if (f.type === "[]struct") {
    arb = fc.array(structArb(f.fields ?? [], v, pools), { maxLength: 3 });
  } else if (f.type.startsWith("[]")) {
    arb = fc.array(primitiveArb(f.type.slice(2), f.name, pools), { maxLength: 4 });
  } else {
    arb = primitiveArb(f.type, f.name, pools);
  }
  return nullable
    ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: arb })
    : arb;
}

function structArb(fields: FieldDef[], v: number, pools: Pools): fc.Arbitrary<unknown> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) shape[f.name] = fieldArb(f, v, pools);
  return fc.record(shape);
}

function intArb(name: string, min: number, max: number): fc.Arbitrary<number> {
  if (WAITS.test(name)) return fc.integer({ min: 0, max: 200 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: Math.max(min, -1), max: Math.min(max, 8) }) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
}

function primitiveArb(type: string, name: string, pools: Pools): fc.Arbitrary<unknown> {
  switch (type) {
    case "int8":
      return intArb(name, -128, 127);
    case "int16":
      return intArb(name, -32768, 32767);
    case "uint16":
      return intArb(name, 0, 65535);
    case "int32":
      return intArb(name, -(2 ** 31), 2 ** 31 - 1);
    case "uint32":
      return intArb(name, 0, 2 ** 32 - 1);
    case "int64":
      return intArb(name, -(2 ** 53) + 1, 2 ** 53 - 1);
    case "float64":
      return fc.double({ noNaN: true });
    case "bool":
      return fc.boolean();
    case "string":
      return fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...TOPICS, ...GROUPS, "") },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      ).filter((s) => s !== CANARY);
    case "bytes":
      return fc.uint8Array({ maxLength: 24 });
    case "uuid":
      return fc.oneof(
        fc.constantFrom(ZERO_UUID, ...pools.topicIds),
        fc.uint8Array({ minLength: 16, maxLength: 16 }).map(uuidToString),
      );
    case "records":
      return fc.oneof(
        fc.constant(null),
        fc.integer({ min: 1, max: 5 }).map((n) => batchOf(0, n)),
      );
    default:
      throw new Error(`No arbitrary for field type ${type} (${name})`);
  }
}

/** A request frame, size prefix included. */
function frameOf(api: Handler["api"], v: number, body: unknown, correlationId: number) {
  const w = new Writer(256);
  const at = w.reserveInt32();
  encodeRequestHeader(
    w,
    { apiKey: api.apiKey, apiVersion: v, correlationId, clientId: "fuzz" },
    requestHeaderFlexible(api, v),
  );
  (api.encodeRequest as (w: Writer, m: unknown, v: number) => void)(w, body, v);
  w.patchInt32(at, w.pos - 4);
  return w.bytes();
}

/** One way of breaking a frame, drawn by fast-check. */
const mutationArb = fc.record({
  kind: fc.constantFrom("flip", "truncate", "int32", "varint", "splice", "noise"),
  at: fc.nat(),
  value: fc.constantFrom(0x7fffffff, -1, -2147483648, 0x04000000, 0x10000),
  bit: fc.integer({ min: 0, max: 7 }),
  length: fc.integer({ min: 1, max: 16 }),
});
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

/** Applies a mutation to the frame's body (after the size prefix), which is then re-sized. */
function mutate(frame: Uint8Array, m: Mutation): Uint8Array {
  const body = frame.slice(4);
  // The first 8 bytes are the API key, version and correlation id: mutations land after them
  // most of the time so that the request still reaches a decoder.
  const at = body.length <= 8 ? m.at % Math.max(body.length, 1) : 8 + (m.at % (body.length - 8));
  let out: Uint8Array;
  switch (m.kind) {
    case "flip":
      out = body;
      if (out.length > 0) out[at] ^= 1 << m.bit;
      break;
    case "truncate":
      out = body.subarray(0, at);
      break;
    case "int32": {
      out = body;
      if (at + 4 <= out.length) new DataView(out.buffer, out.byteOffset).setInt32(at, m.value);
      break;
    }
    case "varint":
      out = splice(body, at, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
      break;
    case "splice":
      out = splice(body, at, body.slice(at, at + m.length * 4));
      break;
    default: {
      const noise = new Uint8Array(m.length);
      for (let i = 0; i < noise.length; i++) noise[i] = (m.at * 31 + i * 97 + m.value) & 0xff;
      out = splice(body, at, noise);
    }
  }
  const framed = new Uint8Array(out.length + 4);
  new DataView(framed.buffer).setInt32(0, out.length);
  framed.set(out, 4);
  return framed;
}

function splice(body: Uint8Array, at: number, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + extra.length);
  out.set(body.subarray(0, at));
  out.set(extra, at);
  out.set(body.subarray(at), at + extra.length);
  return out;
}

type Expectation =
  | { kind: "answer"; correlationId: number }
  | { kind: "silence" }
  | { kind: "close" }
  | { kind: "skip"; why: string };

/** What the broker must do with a frame, decided with the broker's own codec. */
function expectationOf(frame: Uint8Array, table: ReadonlyMap<number, Handler>): Expectation {
  const r = new Reader(frame.subarray(4));
  let header;
  try {
    header = decodeRequestHeaderPrefix(r);
  } catch {
    return { kind: "close" };
  }
  const h = table.get(header.apiKey);
  if (!h) return { kind: "close" };
  if (header.apiVersion < h.minVersion || header.apiVersion > h.maxVersion) {
    // KIP-511: an ApiVersions newer than ours is answered in v0.
    return header.apiKey === 18 && header.apiVersion > h.maxVersion
      ? { kind: "answer", correlationId: header.correlationId }
      : { kind: "close" };
  }
  let req: Record<string, unknown>;
  try {
    if (requestHeaderFlexible(h.api, header.apiVersion)) r.skipTaggedFields();
    req = h.api.decodeRequest(r, header.apiVersion) as Record<string, unknown>;
  } catch {
    return { kind: "close" };
  }
  // A mutation may have made a wait long: the broker would be right to take that long.
  for (const [k, v] of Object.entries(req)) {
    if (WAITS.test(k) && typeof v === "number" && v > 2000) {
      return { kind: "skip", why: `${h.api.name}.${k} = ${v}` };
    }
  }
  if (header.apiKey === PRODUCE_API.apiKey && req.acks === 0) return { kind: "silence" };
  return { kind: "answer", correlationId: header.correlationId };
}

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resolves to null when `p` takes longer than `ms`. */
function orTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The probe that tells "no answer yet" from "no answer due": an ApiVersions v0. */
const PROBE_ID = 0x7ffffff0;
function probeFrame(): Uint8Array {
  const w = new Writer(32);
  const at = w.reserveInt32();
  encodeRequestHeader(
    w,
    { apiKey: 18, apiVersion: 0, correlationId: PROBE_ID, clientId: "probe" },
    false,
  );
  w.patchInt32(at, w.pos - 4);
  return w.bytes();
}

function correlationOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset).getInt32(0);
}

Deno.test({
  name: "fuzzer: mutated requests of every API and version get an answer or a closed connection",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using broker = await spawnBroker([
      "--port",
      "0",
      "--meta",
      "memory:",
      "--log",
      "memory:",
      "--group-initial-rebalance-delay-ms",
      "0",
      "--log-level",
      "info",
    ]);
    const port = broker.port;
    const pid = broker.child.pid;
    const table = handlerTable();
    const defs = await definitions();

    // Things for valid requests to find, and the canary.
    const admin = await WireClient.connect(port);
    const topicIds: string[] = [];
    for (const t of TOPICS) topicIds.push(await createTopic(admin, t, 2));
    const canaryId = await createTopic(admin, CANARY, 1);
    const pools: Pools = { topicIds };

    // The well-behaved producer: one batch of 5 records at a time, each acknowledged quickly.
    let producing = true;
    let produced = 0;
    let slowest = 0;
    const canary = (async () => {
      const c = await WireClient.connect(port);
      try {
        while (producing && produced < 4000) {
          const t0 = performance.now();
          const [p] = await produceAll(c, CANARY, 1, produced, 5);
          assert.equal(p.errorCode, 0, `canary produce at ${produced}`);
          assert.equal(Number(p.baseOffset), produced, "canary offsets stay dense");
          slowest = Math.max(slowest, performance.now() - t0);
          produced += 5;
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await c[Symbol.asyncDispose]();
      }
    })();

    const rssStart = rssBytes(pid);
    let rssPeak = rssStart;
    const counts = { sent: 0, answered: 0, silent: 0, closed: 0, skipped: 0 };
    const failures: string[] = [];
    let conn = await WireClient.connect(port);
    let correlationId = 1;
    const pairs: [Handler, number][] = [];
    for (const h of [...table.values()].sort((a, b) => a.api.apiKey - b.api.apiKey)) {
      for (let v = h.minVersion; v <= h.maxVersion; v++) pairs.push([h, v]);
    }
    let run = 0;
    for (const [h, v] of pairs) {
      const def = defs.get(h.api.apiKey);
      assert.ok(def, `no message definition for ${h.api.name}`);
      const arb = structArb(def.request.fields, v, pools);
      const values = fc.sample(arb, { seed: SEED + h.api.apiKey * 100 + v, numRuns: CASES });
      const mutations = fc.sample(mutationArb, {
        seed: SEED ^ (h.api.apiKey * 7919 + v),
        numRuns: CASES * MUTANTS,
      });
      for (let i = 0; i < values.length; i++) {
        const valid = frameOf(h.api, v, values[i], correlationId++ & 0x3fffffff);
        const frames = [valid];
        for (let j = 0; j < MUTANTS; j++) frames.push(mutate(valid, mutations[i * MUTANTS + j]));
        for (const frame of frames) {
          const what = `${h.api.name} v${v} case ${i} (seed ${SEED}, cases ${CASES})`;
          const expect = expectationOf(frame, table);
          if (expect.kind === "skip") {
            counts.skipped++;
            continue;
          }
          counts.sent++;
          const failuresBefore = failures.length;
          try {
            await conn.sendRaw(frame);
            if (expect.kind === "silence") await conn.sendRaw(probeFrame());
          } catch {
            // The broker closed after an earlier frame; reconnect and count this one unsent.
            conn = await WireClient.connect(port);
            counts.sent--;
            continue;
          }
          const got = await orTimeout(conn.readFrame().catch(() => null), ANSWER_MS);
          if (expect.kind === "answer") {
            if (got === "timeout" || got === null) {
              failures.push(
                `${what}: expected an answer, got ${got === null ? "a close" : "nothing"}`,
              );
            } else if (correlationOf(got) !== expect.correlationId) {
              failures.push(`${what}: answer has correlation id ${correlationOf(got)}`);
            } else counts.answered++;
          } else if (expect.kind === "silence") {
            if (got === null) {
              // Kafka closes the connection when a Produce with acks=0 fails.
              counts.closed++;
            } else if (got === "timeout" || correlationOf(got) !== PROBE_ID) {
              failures.push(
                `${what}: acks=0 must not be answered, and the probe must be; got ${
                  got === null ? "a close" : got === "timeout" ? "nothing" : correlationOf(got)
                }`,
              );
            } else counts.silent++;
          } else {
            if (got === "timeout") failures.push(`${what}: expected a close, the connection hung`);
            else if (got !== null) failures.push(`${what}: expected a close, got an answer`);
            else counts.closed++;
          }
          const failed = failures.length > failuresBefore;
          if (got === null || got === "timeout" || expect.kind === "close" || failed) {
            await conn[Symbol.asyncDispose]();
            conn = await WireClient.connect(port);
          }
          if (++run % 500 === 0) rssPeak = Math.max(rssPeak, rssBytes(pid));
          if (failures.length >= 20) break;
        }
      }
    }
    await conn[Symbol.asyncDispose]();
    producing = false;
    await canary;
    rssPeak = Math.max(rssPeak, rssBytes(pid));

    // The canary reads back exactly as written.
    let offset = 0;
    const seen: [number, string, string][] = [];
    while (offset < produced) {
      const p = await fetchPartition(admin, { name: CANARY, id: canaryId }, 0, offset);
      assert.equal(p.errorCode, 0, "canary fetch");
      const recs = fetchedRecords(p);
      assert.ok(recs.length > 0, `canary fetch at ${offset} returned nothing`);
      seen.push(...recs);
      offset = recs[recs.length - 1][0] + 1;
    }
    assert.equal(seen.length, produced, "canary record count");
    seen.forEach(([o, k, val], i) => {
      assert.equal(o, i, "canary offset");
      assert.equal(k, `k${i}`, "canary key");
      assert.equal(val, `v${i}`, "canary value");
    });
    await admin[Symbol.asyncDispose]();

    const output = broker.output();
    const errors = output.split("\n").filter((l) => /\[(ERR|FTL)\]/.test(l));
    const warnings = output.split("\n").filter((l) => /\[WRN\]/.test(l)).length;
    console.log(
      `fuzzer: seed ${SEED}, ${pairs.length} API versions, ${counts.sent} frames sent ` +
        `(${counts.answered} answered, ${counts.silent} acks=0, ${counts.closed} closed, ` +
        `${counts.skipped} skipped as long waits); canary ${produced} records, slowest ` +
        `${Math.round(slowest)} ms; RSS ${(rssStart / 2 ** 20).toFixed(0)} -> peak ` +
        `${(rssPeak / 2 ** 20).toFixed(0)} MiB; ${warnings} warning lines`,
    );
    assert.deepEqual(failures, [], "every frame answered or its connection closed");
    assert.deepEqual(errors.slice(0, 10), [], "no error-level log line for a client's mistake");
    assert.ok(slowest < 5000, `the canary producer waited ${Math.round(slowest)} ms at worst`);
    assert.ok(
      rssPeak - rssStart < RSS_GROWTH_BOUND,
      `broker RSS grew ${((rssPeak - rssStart) / 2 ** 20).toFixed(0)} MiB`,
    );
  },
});
