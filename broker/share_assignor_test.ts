import assert from "node:assert/strict";
import { assignShareTopic } from "./share_assignor.ts";

const obj = (m: Map<string, number[]>) => Object.fromEntries(m);

Deno.test("share assignor: without a previous target, partition i to member i mod M, or member j partition j mod P", () => {
  assert.deepEqual(obj(assignShareTopic(["a", "b"], 5, new Map())), { a: [0, 2, 4], b: [1, 3] });
  assert.deepEqual(obj(assignShareTopic(["a", "b", "c"], 1, new Map())), {
    a: [0],
    b: [0],
    c: [0],
  });
  assert.deepEqual(obj(assignShareTopic(["a", "b", "c", "d", "e"], 2, new Map())), {
    a: [0],
    b: [1],
    c: [0],
    d: [1],
    e: [0],
  });
});

Deno.test("share assignor: a member joining or leaving moves as few partitions as balance allows", () => {
  // Six partitions over a and b; c joins: a and b each give up one, keeping the rest.
  const two = assignShareTopic(["a", "b"], 6, new Map());
  assert.deepEqual(obj(two), { a: [0, 2, 4], b: [1, 3, 5] });
  const three = assignShareTopic(["a", "b", "c"], 6, two);
  assert.deepEqual(three.get("a")!.filter((p) => two.get("a")!.includes(p)).length, 2);
  assert.deepEqual(three.get("b")!.filter((p) => two.get("b")!.includes(p)).length, 2);
  assert.equal(three.get("c")!.length, 2);
  assert.deepEqual([...three.values()].flat().sort(), [0, 1, 2, 3, 4, 5]);
  // b leaves: a and c keep theirs and split b's.
  const back = assignShareTopic(["a", "c"], 6, three);
  for (const m of ["a", "c"]) {
    for (const p of three.get(m)!) assert.ok(back.get(m)!.includes(p), `${m} keeps ${p}`);
    assert.equal(back.get(m)!.length, 3);
  }
  // A leaving member ahead in id order does not reshuffle the others (plain modulo would).
  const four = assignShareTopic(["a", "b", "c", "d"], 4, new Map());
  const gone = assignShareTopic(["b", "c", "d"], 4, four);
  for (const m of ["b", "c", "d"]) assert.ok(gone.get(m)!.includes(four.get(m)![0]), m);
});

Deno.test("share assignor: more members than partitions share them evenly, sticky", () => {
  const five = assignShareTopic(["a", "b", "c", "d", "e"], 2, new Map());
  // a (partition 0) leaves: nobody else moves; partition 0 keeps c and e.
  const four = assignShareTopic(["b", "c", "d", "e"], 2, five);
  assert.deepEqual(obj(four), { b: [1], c: [0], d: [1], e: [0] });
  // Partition 1's members leave: one of partition 0's moves over, so both have a member.
  const two = assignShareTopic(["c", "e"], 2, four);
  assert.deepEqual([...two.values()].flat().sort(), [0, 1]);
  assert.deepEqual(two.get("c"), [0], "the first keeps its partition");
});
