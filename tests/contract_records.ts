/**
 * The records every interop driver produces (tests/clients/CONTRACT.md), and
 * the check that what a consumer read is exactly what the producer sent.
 */

import assert from "node:assert/strict";
import { b64 } from "./helpers.ts";

const enc = new TextEncoder();

/** Record i as the contract defines it. */
export function contractRecord(i: number): {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: [string, Uint8Array][];
} {
  return {
    key: i % 10 === 3 ? null : enc.encode(`key-${i}`),
    value: i % 10 === 7 ? null : enc.encode(`value-${i}-${"x".repeat(i % 100)}`),
    headers: i % 5 === 0 ? [] : [["trace", enc.encode(`t-${i}`)], ["idx", enc.encode(String(i))]],
  };
}

/** A produced record's acknowledgement: which record, and where it landed. */
export interface Produced {
  i: number;
  p: number;
  o: number;
}

/** A consumed record, as drivers print it. */
export interface Consumed {
  p: number;
  o: number;
  k: string | null;
  v: string | null;
  h: [string, string | null][];
  ts: number;
}

/** Parses a driver's JSON lines: records, then the final `done` line. */
export function parseLines<T>(
  stdout: string,
): { records: T[]; done: Record<string, unknown> | null } {
  const records: T[] = [];
  let done: Record<string, unknown> | null = null;
  for (const line of stdout.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    const obj = JSON.parse(line);
    if (obj.done) done = obj;
    else records.push(obj);
  }
  return { records, done };
}

/**
 * Checks that every produced record was consumed once, byte for byte, at the
 * offset its acknowledgement named, and that offsets per partition are
 * contiguous from the first one and follow produce order.
 */
export function assertSameRecords(produced: Produced[], consumed: Consumed[], label: string): void {
  assert.equal(
    consumed.length,
    produced.length,
    `${label}: consumed ${consumed.length} of ${produced.length}`,
  );
  const at = new Map<string, Consumed>();
  for (const c of consumed) {
    const k = `${c.p}/${c.o}`;
    assert.ok(!at.has(k), `${label}: offset ${k} consumed twice`);
    at.set(k, c);
  }
  const byPartition = new Map<number, Produced[]>();
  for (const p of produced) {
    const c = at.get(`${p.p}/${p.o}`);
    assert.ok(c, `${label}: record ${p.i} acknowledged at ${p.p}/${p.o} was not consumed`);
    const want = contractRecord(p.i);
    assert.equal(c.k, b64(want.key), `${label}: key of record ${p.i}`);
    assert.equal(c.v, b64(want.value), `${label}: value of record ${p.i}`);
    assert.deepEqual(
      c.h,
      want.headers.map(([k, v]) => [k, b64(v)]),
      `${label}: headers of record ${p.i}`,
    );
    let list = byPartition.get(p.p);
    if (!list) byPartition.set(p.p, list = []);
    list.push(p);
  }
  for (const [partition, list] of byPartition) {
    const offsets = list.map((x) => x.o).sort((a, b) => a - b);
    for (let j = 1; j < offsets.length; j++) {
      assert.equal(
        offsets[j],
        offsets[j - 1] + 1,
        `${label}: partition ${partition} has a gap at ${offsets[j - 1]}`,
      );
    }
    // Per partition, records sent later by one producer sit at higher offsets.
    const byIndex = [...list].sort((a, b) => a.i - b.i);
    for (let j = 1; j < byIndex.length; j++) {
      assert.ok(
        byIndex[j].o > byIndex[j - 1].o,
        `${label}: partition ${partition} reordered records ${byIndex[j - 1].i} and ${
          byIndex[j].i
        }`,
      );
    }
  }
}
