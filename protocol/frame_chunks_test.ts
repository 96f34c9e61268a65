import assert from "node:assert/strict";
import { encodeResponseFrame, encodeResponseFrameChunks, REFER_RECORDS_FROM } from "./frame.ts";
import { FETCH_API } from "./generated/mod.ts";
import { defaultFetchResponse, defaultFetchResponsePartition } from "./generated/fetch.ts";
import type { Writer } from "./writer.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("a Fetch response frame refers to its large record chunks, and its parts are the same bytes as one frame", () => {
  const small = new Uint8Array(1000).fill(7);
  const large = new Uint8Array(REFER_RECORDS_FROM * 3).map((_, i) => i & 0xff);
  const res = defaultFetchResponse();
  res.responses = [{
    topic: "t",
    topicId: "AAAAAAAAAAAAAAAAAAAAAA",
    partitions: [0, 1, 2].map((i) => ({
      ...defaultFetchResponsePartition(),
      partitionIndex: i,
      // A patched header chunk, then stored bytes; a small set; a large set alone.
      records: i === 0 ? [small, large] : i === 1 ? small : large,
    })),
  }];
  for (const version of [4, 12, 16]) {
    const body = (w: Writer) => FETCH_API.encodeResponse(w, res, version);
    const whole = encodeResponseFrame(77, version >= 12, body);
    // Long enough that the frame's own buffer is reallocated after parts were sealed.
    const parts = encodeResponseFrameChunks(77, version >= 12, body);
    assert.deepEqual(concat(parts), whole, `v${version}: the parts make the frame`);
    assert.equal(
      new DataView(whole.buffer, whole.byteOffset).getInt32(0),
      whole.length - 4,
      "the size prefix counts the referenced bytes",
    );
    assert.equal(parts.filter((p) => p === large).length, 2, "the large chunk is sent as it is");
  }
});
