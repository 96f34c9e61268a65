import assert from "node:assert/strict";
import { FAILED_AUTHENTICATION_DELAY_MS, FailureDelays } from "./failure_delay.ts";

Deno.test("failed authentication delays: 100 ms, slower per address that keeps failing, bounded, forgotten after a minute", () => {
  const d = new FailureDelays(3);
  const delays = Array.from({ length: 100 }, (_, i) => d.fail("10.0.0.1", 1000 + i));
  assert.equal(delays[0], FAILED_AUTHENTICATION_DELAY_MS);
  assert.equal(delays[4], FAILED_AUTHENTICATION_DELAY_MS);
  assert.ok(delays[10] > FAILED_AUTHENTICATION_DELAY_MS);
  assert.equal(Math.max(...delays), 1000);
  // Another address is not slowed by the first.
  assert.equal(d.fail("10.0.0.2", 2000), FAILED_AUTHENTICATION_DELAY_MS);
  // A minute later the count starts again.
  assert.equal(d.fail("10.0.0.1", 1000 + 100 + 60_000), FAILED_AUTHENTICATION_DELAY_MS);
  for (let i = 0; i < 1000; i++) d.fail(`10.1.${i >> 8}.${i & 255}`, 70_000);
  assert.equal(d.size, 3);
});
