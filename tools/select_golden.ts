/**
 * Picks the golden codec fixtures out of captures made by tools/capture_proxy.ts
 * (tests/golden/README.md). For every (API key, version) a client sent, one
 * request and its response are kept: the largest pair whose frames are both
 * within 64 KiB (so fetch responses carry records and metadata responses list
 * topics), preferring pairs that have a response. Produce requests are kept once
 * per compression codec as well ("variant"). Frames are written as they
 * travelled, without their 4-byte size prefix, to
 * OUT/<client>/<api>-v<version>[-<variant>]-{request,response}.bin, and
 * OUT/index.json lists them (entries of other clients already there are kept).
 *
 *   deno run -A tools/select_golden.ts --client NAME --client-version V --kafka-version V
 *        --capture DIR [--capture DIR...] [--out tests/golden/fixtures] [--note TEXT]
 *
 * It also decodes and re-encodes every captured frame our codec knows, and
 * prints a table of what round-trips and what does not (the first problem of
 * each kind), so that a codec bug shows even in frames that were not kept.
 */

import { toHex } from "../protocol/reader.ts";
import type { ProduceRequest } from "../protocol/generated/mod.ts";
import type { FrameRecord } from "./capture_proxy.ts";
import { apiName, codecFor, decodeRequestFrame, roundTrip, snakeName } from "./golden_frames.ts";

/** Fixtures bigger than this are not kept. */
export const MAX_FIXTURE_BYTES = 64 * 1024;

const COMPRESSION = ["none", "gzip", "snappy", "lz4", "zstd"];

/** One kept request/response pair, as index.json lists it. */
export interface FixtureEntry {
  client: string;
  apiKey: number;
  api: string;
  version: number;
  /** "" or, for Produce, the compression codec of the first batch. */
  variant: string;
  correlationId: number;
  clientId: string | null;
  /** The capture it came from (the capture directory's name: default, oldest, native). */
  capture: string;
  /** Paths relative to the fixtures directory. */
  request: string;
  response: string | null;
  requestSize: number;
  responseSize: number | null;
}

/** The versions one client sent for one API. */
export interface SeenEntry {
  client: string;
  apiKey: number;
  api: string;
  versions: number[];
  /** Versions our codec can read (the rest are listed, not kept). */
  inCodec: number[];
}

export interface ClientInfo {
  client: string;
  clientVersion: string;
  kafkaVersion: string;
  note?: string;
  captures: number;
}

export interface GoldenIndex {
  about: string;
  clients: ClientInfo[];
  fixtures: FixtureEntry[];
  seen: SeenEntry[];
}

interface Frame {
  rec: FrameRecord;
  bytes: Uint8Array;
}

interface Pair {
  req: Frame;
  res: Frame | null;
  capture: string;
}

async function loadCapture(dir: string): Promise<Pair[]> {
  const bin = await Deno.readFile(`${dir}/frames.bin`);
  const lines = (await Deno.readTextFile(`${dir}/frames.jsonl`)).split("\n").filter((l) => l);
  const capture = dir.replace(/\/+$/, "").split("/").pop()!;
  const reqs = new Map<string, Frame>();
  const pairs: Pair[] = [];
  for (const line of lines) {
    const rec = JSON.parse(line) as FrameRecord;
    const bytes = bin.subarray(rec.offset, rec.offset + rec.size);
    const key = `${rec.conn}/${rec.correlationId}`;
    if (rec.dir === "request") {
      const pair: Pair = { req: { rec, bytes }, res: null, capture };
      reqs.set(key, pair.req);
      pairs.push(pair);
    } else {
      const req = reqs.get(key);
      if (!req || rec.synthesized) continue;
      const pair = pairs.findLast((p) => p.req === req);
      if (pair) pair.res = { rec, bytes };
    }
  }
  // Requests answered by the proxy itself (ApiVersions fallback) are not the broker's.
  const synthesized = new Set(
    lines.map((l) => JSON.parse(l) as FrameRecord).filter((r) => r.synthesized).map((r) =>
      `${r.conn}/${r.correlationId}`
    ),
  );
  return pairs.filter((p) => !synthesized.has(`${p.req.rec.conn}/${p.req.rec.correlationId}`));
}

/** Compression codec of a produce request's first batch, "" when it does not decode. */
function produceVariant(frame: Uint8Array): string {
  try {
    const d = decodeRequestFrame(frame);
    const body = d.body as ProduceRequest;
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        const r = p.records;
        const b = r instanceof Uint8Array ? r : null;
        if (b && b.length >= 23) {
          const attrs = new DataView(b.buffer, b.byteOffset, b.byteLength).getInt16(21);
          return COMPRESSION[attrs & 7] ?? `codec${attrs & 7}`;
        }
      }
    }
  } catch { /* not ours to judge here: the round-trip table shows it */ }
  return "";
}

function inCodec(apiKey: number, version: number): boolean {
  const c = codecFor(apiKey);
  return c !== undefined && version >= c.minVersion && version <= c.maxVersion;
}

/** Prints which captured frames round-trip through our codec, grouped by API, version and side. */
function roundTripTable(client: string, pairs: Pair[]): number {
  const rows = new Map<string, { ok: number; bad: number; problem: string | null }>();
  for (const p of pairs) {
    const { apiKey, apiVersion } = p.req.rec;
    if (!inCodec(apiKey, apiVersion)) continue;
    const sides: [string, Frame | null][] = [["request", p.req], ["response", p.res]];
    for (const [side, f] of sides) {
      if (!f) continue;
      const rt = roundTrip(side as "request" | "response", f.bytes, apiKey, apiVersion);
      const key = `${apiName(apiKey)} v${apiVersion} ${side}`;
      const row = rows.get(key) ?? { ok: 0, bad: 0, problem: null };
      if (rt.ok) row.ok++;
      else {
        row.bad++;
        row.problem ??= `${rt.problem} [corr ${f.rec.correlationId}, ${f.bytes.length} bytes: ${
          toHex(f.bytes.subarray(0, 48))
        }...]`;
      }
      rows.set(key, row);
    }
  }
  let bad = 0;
  console.log(`\n== ${client}: round trip of every captured frame our codec knows`);
  for (const [key, row] of [...rows].sort()) {
    bad += row.bad;
    console.log(
      `${row.bad ? "MISMATCH" : "ok      "} ${key.padEnd(36)} ${row.ok} ok, ${row.bad} bad${
        row.problem ? `: ${row.problem}` : ""
      }`,
    );
  }
  return bad;
}

function parseArgs(argv: string[]) {
  const captures: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    if (name === "capture") captures.push(argv[i + 1]);
    else flags.set(name, argv[i + 1]);
  }
  const need = (n: string) => {
    const v = flags.get(n);
    if (!v) throw new Error(`--${n} is required`);
    return v;
  };
  if (captures.length === 0) throw new Error("--capture DIR is required");
  return {
    client: need("client"),
    clientVersion: need("client-version"),
    kafkaVersion: need("kafka-version"),
    note: flags.get("note"),
    out: flags.get("out") ?? new URL("../tests/golden/fixtures", import.meta.url).pathname,
    captures,
  };
}

async function main() {
  const args = parseArgs(Deno.args);
  const pairs: Pair[] = [];
  for (const dir of args.captures) pairs.push(...await loadCapture(dir));
  const bad = roundTripTable(args.client, pairs);

  // Best pair per (api, version, variant).
  const best = new Map<string, { pair: Pair; variant: string; score: number }>();
  const seen = new Map<number, Set<number>>();
  for (const p of pairs) {
    const { apiKey, apiVersion } = p.req.rec;
    if (apiKey < 0) continue;
    if (!seen.has(apiKey)) seen.set(apiKey, new Set());
    seen.get(apiKey)!.add(apiVersion);
    if (!inCodec(apiKey, apiVersion)) continue;
    const reqSize = p.req.bytes.length;
    const resSize = p.res?.bytes.length ?? 0;
    if (reqSize > MAX_FIXTURE_BYTES || resSize > MAX_FIXTURE_BYTES) continue;
    const variants = apiKey === 0 ? ["", produceVariant(p.req.bytes)] : [""];
    for (const variant of new Set(variants)) {
      const key = `${apiKey}/${apiVersion}/${variant}`;
      // A response is worth more than any size; then the bigger the better.
      const score = (p.res ? 1 << 20 : 0) + reqSize + resSize;
      const cur = best.get(key);
      if (!cur || score > cur.score) best.set(key, { pair: p, variant, score });
    }
  }

  const dir = `${args.out}/${args.client}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const fixtures: FixtureEntry[] = [];
  for (const { pair, variant } of best.values()) {
    const { apiKey, apiVersion, correlationId, clientId } = pair.req.rec;
    const base = `${snakeName(apiKey)}-v${apiVersion}${variant ? `-${variant}` : ""}`;
    const request = `${args.client}/${base}-request.bin`;
    const response = pair.res ? `${args.client}/${base}-response.bin` : null;
    await Deno.writeFile(`${args.out}/${request}`, pair.req.bytes);
    if (pair.res && response) await Deno.writeFile(`${args.out}/${response}`, pair.res.bytes);
    fixtures.push({
      client: args.client,
      apiKey,
      api: apiName(apiKey),
      version: apiVersion,
      variant,
      correlationId,
      clientId,
      capture: pair.capture,
      request,
      response,
      requestSize: pair.req.bytes.length,
      responseSize: pair.res?.bytes.length ?? null,
    });
  }
  fixtures.sort((a, b) =>
    a.apiKey - b.apiKey || a.version - b.version || a.variant.localeCompare(b.variant)
  );

  const indexPath = `${args.out}/index.json`;
  let index: GoldenIndex = {
    about: "Golden codec fixtures captured from real clients talking to Apache Kafka " +
      "through tools/capture_proxy.ts; see tests/golden/README.md. Frames are stored " +
      "without their 4-byte size prefix.",
    clients: [],
    fixtures: [],
    seen: [],
  };
  try {
    index = JSON.parse(await Deno.readTextFile(indexPath));
  } catch { /* first client */ }
  index.clients = index.clients.filter((c) => c.client !== args.client);
  index.clients.push({
    client: args.client,
    clientVersion: args.clientVersion,
    kafkaVersion: args.kafkaVersion,
    ...(args.note ? { note: args.note } : {}),
    captures: args.captures.length,
  });
  index.clients.sort((a, b) => a.client.localeCompare(b.client));
  index.fixtures = index.fixtures.filter((f) => f.client !== args.client).concat(fixtures);
  index.fixtures.sort((a, b) =>
    a.client.localeCompare(b.client) || a.apiKey - b.apiKey || a.version - b.version ||
    a.variant.localeCompare(b.variant)
  );
  index.seen = index.seen.filter((s) => s.client !== args.client).concat(
    [...seen].map(([apiKey, vs]) => {
      const versions = [...vs].sort((a, b) => a - b);
      return {
        client: args.client,
        apiKey,
        api: apiName(apiKey),
        versions,
        inCodec: versions.filter((v) => inCodec(apiKey, v)),
      };
    }),
  );
  index.seen.sort((a, b) => a.client.localeCompare(b.client) || a.apiKey - b.apiKey);
  await Deno.writeTextFile(indexPath, JSON.stringify(index, null, 1) + "\n");

  console.log(`\n== ${args.client}: ${fixtures.length} fixtures written to ${dir}`);
  for (const s of index.seen.filter((s) => s.client === args.client)) {
    const outside = s.versions.filter((v) => !s.inCodec.includes(v));
    console.log(
      `${s.api.padEnd(28)} v${s.versions.join(",v")}${
        outside.length ? `  (not in our codec: v${outside.join(",v")})` : ""
      }`,
    );
  }
  if (bad > 0) console.log(`\n${bad} captured frames do not round-trip through our codec`);
}

if (import.meta.main) await main();
