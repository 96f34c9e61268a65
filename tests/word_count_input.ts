/**
 * The input of the Kafka Streams word-count tests (tests/clients/streams/WordCount.java): line
 * `i` is three to five words of a word list, fixed by `i`, so a test knows every word's exact
 * count for any number of lines.
 */

import assert from "node:assert/strict";
import { PRODUCE_API } from "../protocol/generated/mod.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { within } from "./helpers.ts";
import type { WireClient } from "./wire_client.ts";
import { produceRequest } from "./wire_requests.ts";

export const NINE_WORDS = [
  "alpha",
  "bravo",
  "charlie",
  "delta",
  "echo",
  "foxtrot",
  "golf",
  "hotel",
  "india",
];

const enc = new TextEncoder();

/** The lines and counts of one word list. */
export function wordCountInput(words: readonly string[]) {
  /** Line `i`: three to five words, fixed by `i`. */
  const line = (i: number): string => {
    const n = 3 + (i % 3);
    return Array.from({ length: n }, (_, k) => words[(i * 7 + k * k * 5 + k) % words.length])
      .join(" ");
  };
  /** How often each word occurs in lines [0, lines). */
  const expectedCounts = (lines: number): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < lines; i++) {
      for (const w of line(i).split(" ")) counts[w] = (counts[w] ?? 0) + 1;
    }
    return counts;
  };
  /** Produces lines [from, to) keyless, `per` to a batch, round robin over the partitions. */
  const produceLines = async (
    c: WireClient,
    topic: string,
    partitions: number,
    from: number,
    to: number,
    per = 500,
  ) => {
    let batchNo = 0;
    for (let at = from; at < to; at += per, batchNo++) {
      const recs = [];
      for (let i = at; i < Math.min(to, at + per); i++) {
        recs.push({ key: null, value: enc.encode(line(i)), headers: [] });
      }
      const req = produceRequest(topic, buildBatch(recs));
      req.topicData[0].partitionData[0].index = batchNo % partitions;
      const res = await within(c.call(PRODUCE_API, 12, req), 30_000, "produce");
      assert.equal(res.responses[0].partitionResponses[0].errorCode, 0, "produce lines");
    }
  };
  return { line, expectedCounts, produceLines };
}
