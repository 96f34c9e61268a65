import assert from "node:assert/strict";
import { BufferBudget } from "./buffer_budget.ts";

function stopper() {
  let stop!: () => void;
  const s = {
    stopped: false,
    promise: new Promise<void>((r) => (stop = r)),
    stop() {
      s.stopped = true;
      stop();
    },
  };
  return s;
}

Deno.test("a budget takes while it has room, even past its bound, then waits for bytes given back", async () => {
  const b = new BufferBudget(100);
  assert.ok(b.hasRoom(), "room: taken at once");
  b.take(60);
  assert.ok(b.hasRoom(), "still under the bound: taken whole, past it");
  b.take(60);
  assert.equal(b.held, 120);
  let roomy = false;
  const waiting = b.room().then(() => (roomy = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(roomy, false, "no room: the third waits");
  b.give(60);
  await waiting;
  assert.equal(roomy, true);
  assert.equal(b.held, 60);
});

Deno.test("a wait for room gives up when its connection closes, and counts nothing", async () => {
  const b = new BufferBudget(10);
  b.take(10);
  const stop = stopper();
  const waiting = b.room(stop);
  stop.stop();
  await waiting;
  assert.equal(b.hasRoom(), false, "given up, not given room");
  assert.equal(b.held, 10);
  await b.room(stop); // a stopped wait returns at once
});

Deno.test("a budget of 0 has no bound", () => {
  const b = new BufferBudget(0);
  b.take(1e12);
  assert.ok(b.hasRoom());
});
