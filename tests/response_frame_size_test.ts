/**
 * Fetch and ShareFetch answers are encoded into one buffer of the size their
 * handler estimates (Handler.responseBytes), taken from the frame pool for
 * large answers: not grown by doubling,
 * so a 1 MiB answer is not copied into a 2 MiB buffer, and the estimate is
 * close to what is written, for every version the handler serves.
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
import { concatChunks } from "../protocol/writer.ts";
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

function frameOf<R>(
  api: typeof FETCH_API | typeof SHARE_FETCH_API,
  version: number,
  res: R,
  hint: number,
): Uint8Array {
  return encodeResponseFrame(
    42,
    responseHeaderFlexible(api, version),
    (w) => (api.encodeResponse as (w: unknown, r: R, v: number) => void)(w, res, version),
    hint,
  );
}

Deno.test("Fetch answers are encoded into one buffer of the estimated size, every version", () => {
  const res = fetchAnswer();
  const hint = fetch.responseBytes!(res);
  const records = 16 + (1 << 20) + 16 + 300_000 + 70_000;
  for (let version = fetch.minVersion; version <= fetch.maxVersion; version++) {
    const frame = frameOf(FETCH_API, version, res, hint);
    assert.ok(FRAME_POOL.isLent(frame), `v${version}: encoded into one pooled buffer, not grown`);
    assert.ok(frame.buffer.byteLength <= hint * 1.25, `v${version}: ${frame.buffer.byteLength}`);
    assert.ok(frame.length <= hint && hint - frame.length < 2048, `v${version}: ${frame.length}`);
    assert.ok(frame.length > records, `v${version}: the records are in the frame`);
    const back = decodeResponseFrame(FETCH_API, version, frame.subarray(4)).body;
    const got = back.responses[0].partitions[0].records as Uint8Array;
    assert.equal(got.length, 16 + (1 << 20) + 16 + 300_000);
    assert.equal(got[16], 2, "the chunks are back to back");
    assert.equal(got[got.length - 1], 4);
  }
  // Without an estimate the frame grows by doubling: the buffer the estimate avoids.
  const grown = frameOf(FETCH_API, fetch.maxVersion, res, 256);
  assert.ok(!FRAME_POOL.isLent(grown));
  assert.ok(grown.buffer.byteLength >= 2 * (1 << 20), `${grown.buffer.byteLength}`);
});

Deno.test("ShareFetch answers are encoded into one buffer of the estimated size", () => {
  const res = shareFetchAnswer();
  const hint = shareFetch.responseBytes!(res);
  for (let version = shareFetch.minVersion; version <= shareFetch.maxVersion; version++) {
    const frame = frameOf(SHARE_FETCH_API, version, res, hint);
    assert.ok(FRAME_POOL.isLent(frame), `v${version}: encoded into one pooled buffer, not grown`);
    assert.ok(frame.length <= hint && hint - frame.length < 2048, `v${version}: ${frame.length}`);
    const back = decodeResponseFrame(SHARE_FETCH_API, version, frame.subarray(4)).body;
    assert.equal((back.responses[0].partitions[0].records as Uint8Array).length, 900_016);
  }
});

Deno.test("gathered Fetch answers keep large record chunks by reference, byte for byte the same frame", () => {
  const res = fetchAnswer();
  const stored = res.responses[0].partitions[0].records as Uint8Array[];
  const hint = fetch.responseBytes!(res);
  for (let version = fetch.minVersion; version <= fetch.maxVersion; version++) {
    const plain = frameOf(FETCH_API, version, res, hint);
    const gathered = encodeGatheredResponseFrame(
      42,
      responseHeaderFlexible(FETCH_API, version),
      (w) => FETCH_API.encodeResponse(w, res, version),
      hint,
    );
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
    frameOf(FETCH_API, 12, small, 256).slice(),
    "the same frame as the plain encoder's",
  );
});
