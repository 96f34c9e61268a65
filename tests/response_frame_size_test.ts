/**
 * Fetch and ShareFetch answers are encoded by the gathered encoder: the small
 * fields into one buffer sized from the handler's estimate
 * (Handler.responseBytes) and taken from the frame pool for large answers, so
 * it is never grown by doubling; large record sets are kept by reference. The
 * estimate is close to what is written, for every version the handler serves,
 * and the pieces are byte for byte the frame the plain encoder writes.
 */

import assert from "node:assert/strict";
import {
  defaultFetchResponse,
  defaultFetchResponsePartition,
  defaultFetchResponseTopic,
  defaultShareFetchResponse,
  defaultShareFetchResponsePartition,
  defaultShareFetchResponseTopic,
  FETCH_API,
  type FetchResponse,
  SHARE_FETCH_API,
  type ShareFetchResponse,
} from "../protocol/generated/mod.ts";
import {
  decodeResponseFrame,
  encodeGatheredResponseFrame,
  encodeResponseFrame,
  GatheredFrame,
  responseHeaderFlexible,
} from "../protocol/frame.ts";
import { concatChunks, type Writer } from "../protocol/writer.ts";
import { FRAME_POOL } from "../protocol/frame_pool.ts";
import { fetch } from "../handlers/fetch.ts";
import { shareFetch } from "../handlers/share_fetch.ts";

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

function chunks(sizes: number[], fill: number): Uint8Array[] {
  return sizes.map((n, i) => new Uint8Array(n).fill(fill + i));
}

function fetchAnswer(): FetchResponse {
  const res = defaultFetchResponse();
  const topic = { ...defaultFetchResponseTopic(), topic: "orders", topicId: TOPIC_ID };
  topic.partitions = [
    // A big answer as the partition log gives it: rewritten batch headers and stored bytes.
    { ...defaultFetchResponsePartition(), records: chunks([16, 1 << 20, 16, 300_000], 1) },
    {
      ...defaultFetchResponsePartition(),
      partitionIndex: 1,
      records: chunks([70_000], 9),
      abortedTransactions: [{ producerId: 7, firstOffset: 3 }],
    },
    { ...defaultFetchResponsePartition(), partitionIndex: 2, records: new Uint8Array(0) },
  ];
  res.responses = [topic];
  return res;
}

function shareFetchAnswer(): ShareFetchResponse {
  const res = defaultShareFetchResponse();
  const topic = { ...defaultShareFetchResponseTopic(), topicId: TOPIC_ID };
  topic.partitions = [{
    ...defaultShareFetchResponsePartition(),
    records: chunks([16, 900_000], 3),
    acquiredRecords: [{ firstOffset: 0, lastOffset: 99, deliveryCount: 1 }],
  }];
  res.responses = [topic];
  return res;
}

type Api = typeof FETCH_API | typeof SHARE_FETCH_API;

function encodeBody<R>(api: Api, version: number, res: R) {
  return (w: Writer) =>
    (api.encodeResponse as (w: Writer, r: R, v: number) => void)(w, res, version);
}

/** The plain encoder's frame: one buffer, grown as it fills. */
function frameOf<R>(api: Api, version: number, res: R): Uint8Array {
  return encodeResponseFrame(
    42,
    responseHeaderFlexible(api, version),
    encodeBody(api, version, res),
  );
}

/** The gathered encoder's frame, as the broker encodes answers with record sets. */
function gatheredOf<R>(api: Api, version: number, res: R, hint: number) {
  return encodeGatheredResponseFrame(
    42,
    responseHeaderFlexible(api, version),
    encodeBody(api, version, res),
    hint,
  );
}

/**
 * Checks a gathered frame of a large answer: its own buffer came from the
 * pool and was not outgrown, its length is within the estimate, and it decodes.
 */
function assertEstimated(frame: Uint8Array | GatheredFrame, hint: number, label: string) {
  assert.ok(frame instanceof GatheredFrame, `${label}: large record sets kept aside`);
  assert.ok(FRAME_POOL.isLent(frame.parts[0]), `${label}: the pooled first buffer, not grown`);
  assert.ok(
    frame.length <= hint && hint - frame.length < 2048,
    `${label}: ${frame.length} bytes against an estimate of ${hint}`,
  );
  for (const part of frame.parts) FRAME_POOL.give(part);
  return concatChunks(frame.parts);
}

Deno.test("Fetch answers are encoded within the estimated size, every version", () => {
  const res = fetchAnswer();
  const hint = fetch.responseBytes!(res);
  const records = 16 + (1 << 20) + 16 + 300_000 + 70_000;
  for (let version = fetch.minVersion; version <= fetch.maxVersion; version++) {
    const frame = assertEstimated(gatheredOf(FETCH_API, version, res, hint), hint, `v${version}`);
    assert.ok(frame.length > records, `v${version}: the records are in the frame`);
    const back = decodeResponseFrame(FETCH_API, version, frame.subarray(4)).body;
    const got = back.responses[0].partitions[0].records as Uint8Array;
    assert.equal(got.length, 16 + (1 << 20) + 16 + 300_000);
    assert.equal(got[16], 2, "the chunks are back to back");
    assert.equal(got[got.length - 1], 4);
  }
});

Deno.test("ShareFetch answers are encoded within the estimated size", () => {
  const res = shareFetchAnswer();
  const hint = shareFetch.responseBytes!(res);
  for (let version = shareFetch.minVersion; version <= shareFetch.maxVersion; version++) {
    const frame = assertEstimated(
      gatheredOf(SHARE_FETCH_API, version, res, hint),
      hint,
      `v${version}`,
    );
    const back = decodeResponseFrame(SHARE_FETCH_API, version, frame.subarray(4)).body;
    assert.equal((back.responses[0].partitions[0].records as Uint8Array).length, 900_016);
  }
});

Deno.test("gathered Fetch answers keep large record chunks by reference, byte for byte the same frame", () => {
  const res = fetchAnswer();
  const stored = res.responses[0].partitions[0].records as Uint8Array[];
  const hint = fetch.responseBytes!(res);
  for (let version = fetch.minVersion; version <= fetch.maxVersion; version++) {
    const plain = frameOf(FETCH_API, version, res);
    const gathered = gatheredOf(FETCH_API, version, res, hint);
    assert.ok(gathered instanceof GatheredFrame, `v${version}: kept in pieces`);
    assert.equal(gathered.length, plain.length);
    assert.deepEqual(concatChunks(gathered.parts), plain, `v${version}: the same bytes`);
    for (const c of stored) {
      assert.ok(gathered.parts.includes(c), `v${version}: a ${c.length}-byte chunk by reference`);
    }
    // The 70,000-byte record set is one chunk of its own too; the empty one is not a piece.
    assert.ok(gathered.parts.every((p) => p.length > 0));
  }
  // Answers with only small record sets stay one plain frame.
  const small = defaultFetchResponse();
  small.responses = [{
    ...defaultFetchResponseTopic(),
    topic: "t",
    topicId: TOPIC_ID,
    partitions: [{ ...defaultFetchResponsePartition(), records: chunks([16, 1000], 1) }],
  }];
  const one = encodeGatheredResponseFrame(
    42,
    true,
    (w) => FETCH_API.encodeResponse(w, small, 12),
    fetch.responseBytes!(small),
  );
  assert.ok(one instanceof Uint8Array);
  assert.deepEqual(
    one,
    frameOf(FETCH_API, 12, small).slice(),
    "the same frame as the plain encoder's",
  );
});
