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

Deno.test("a budget admits while it has room, even past its bound, then waits for bytes given back", async () => {
  const b = new BufferBudget(100);
  assert.equal(b.admit(60), null, "room: admitted at once");
  assert.equal(b.admit(60), null, "still under the bound: admitted whole, past it");
  assert.equal(b.held, 120);
  let admitted = false;
  const waiting = b.admit(10)!.then((ok) => (admitted = ok));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(admitted, false, "no room: the third waits");
  b.give(60);
  await waiting;
  assert.equal(admitted, true);
  assert.equal(b.held, 70);
});

Deno.test("a wait for room gives up when its connection closes, and counts nothing", async () => {
  const b = new BufferBudget(10);
  b.take(10);
  const stop = stopper();
  const waiting = b.admit(5, stop)!;
  stop.stop();
  assert.equal(await waiting, false);
  assert.equal(b.held, 10);
  await b.room(stop); // a stopped wait returns at once
});

Deno.test("a budget of 0 has no bound", () => {
  const b = new BufferBudget(0);
  b.take(1e12);
  assert.ok(b.hasRoom());
  assert.equal(b.admit(1), null);
});
