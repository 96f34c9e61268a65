import assert from "node:assert/strict";
import { leftOut, LogBudget } from "./log_budget.ts";

Deno.test("a log budget writes a few lines per key and window, then says how many it left out", () => {
  const logs = new LogBudget(2, 1000);
  const lines: string[] = [];
  const write = (key: string, now: number) =>
    logs.maybe(key, (left) => lines.push(`${key}${leftOut(left)}`), now);
  for (let i = 0; i < 50; i++) write("refused:Produce", 10 + i);
  write("idle", 100);
  assert.deepEqual(lines, ["refused:Produce", "refused:Produce", "idle"]);
  write("refused:Produce", 1200);
  assert.equal(lines.at(-1), "refused:Produce (48 more like it left out)");
  write("refused:Produce", 1201);
  assert.equal(lines.at(-1), "refused:Produce", "the count starts over once told");
});
