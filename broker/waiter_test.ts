import assert from "node:assert/strict";
import { partitionKey, Waiter } from "./waiter.ts";

Deno.test("waiter: a wake ends the waits on its key only", async () => {
  const w = new Waiter(new AbortController().signal);
  const a = w.wait([partitionKey("t", 0)], 5_000);
  const b = w.wait([partitionKey("t", 1)], 50);
  w.wake(partitionKey("t", 0));
  assert.equal(await a, "woken");
  assert.equal(await b, "timeout");
  assert.equal(w.pending, 0, "nothing left registered");
});

Deno.test("waiter: a wait on several keys ends at the first, and unregisters from all", async () => {
  const w = new Waiter(new AbortController().signal);
  const p = w.wait(["a", "b", "c"], 5_000);
  assert.equal(w.pending, 3);
  w.wake("b");
  assert.equal(await p, "woken");
  assert.equal(w.pending, 0);
});

Deno.test("waiter: shutting down ends every wait, and later waits end at once", async () => {
  const closing = new AbortController();
  const w = new Waiter(closing.signal);
  const p = w.wait(["a"], 5_000);
  closing.abort();
  assert.equal(await p, "closing");
  const started = performance.now();
  assert.equal(await w.wait(["a"], 5_000), "closing");
  assert.ok(performance.now() - started < 100);
});
