/**
 * Log behaviours as librdkafka (confluent-kafka for Python) sees them, issue
 * 11: keyless records to a compacted topic fail with INVALID_RECORD in the
 * delivery report while keyed ones succeed; a LogAppendTime topic hands the
 * consumer the broker's timestamp type and time; offsets_for_times is exact
 * to the record inside one batch. The script is
 * tests/clients/python/librdkafka_log.py; a missing confluent-kafka fails the
 * test with how to install it.
 */

import assert from "node:assert/strict";
import { ROOT, testBroker } from "./broker_util.ts";
import { DRIVERS } from "./client_drivers.ts";

const SCRIPT = new URL("tests/clients/python/librdkafka_log.py", ROOT).pathname;

/** Runs the script against a broker, killed after `timeoutMs`; its stdout lines by check. */
async function runScript(bootstrap: string, timeoutMs: number) {
  const child = new Deno.Command("python3", {
    args: [SCRIPT, "--bootstrap", bootstrap],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    const stdout = dec.decode(out.stdout);
    const context = `librdkafka_log.py exited ${out.code}\nstdout:\n${stdout.slice(-3000)}\n` +
      `stderr:\n${dec.decode(out.stderr).slice(-3000)}`;
    assert.equal(out.code, 0, context);
    // deno-lint-ignore no-explicit-any
    const lines: any[] = stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.done), context);
    return { byCheck: new Map(lines.map((l) => [l.check, l])), context };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("librdkafka: compacted topics refuse keyless records, LogAppendTime reaches the consumer, offsets_for_times is exact to the record", async () => {
  await DRIVERS.find((d) => d.name === "librdkafka")!.check();
  await using broker = await testBroker({ cleanerIntervalMs: 0 });
  const started = Date.now();
  const { byCheck, context } = await runScript(`127.0.0.1:${broker.port}`, 90_000);
  const ended = Date.now();

  const compacted = byCheck.get("compacted");
  assert.ok(compacted && !compacted.failed, context);
  assert.deepEqual(
    compacted.reports.map((r: { key: string | null; error: string | null; offset: number }) => [
      r.key,
      r.error,
      r.error === null ? r.offset : null,
    ]),
    [[null, "INVALID_RECORD", null], [null, "INVALID_RECORD", null], ["k0", null, 0], [
      "k1",
      null,
      1,
    ]],
    "keyless records fail in the delivery report and take no offsets; keyed ones succeed",
  );
  assert.equal(compacted.reports[0].code, compacted.INVALID_RECORD);

  const appended = byCheck.get("log_append_time");
  assert.ok(appended && !appended.failed, context);
  assert.equal(appended.timestamps.length, 1, context);
  const [type, t] = appended.timestamps[0];
  assert.equal(type, appended.LOG_APPEND_TIME, "msg.timestamp() names TIMESTAMP_LOG_APPEND_TIME");
  assert.ok(
    t >= started - 1000 && t <= ended + 1000,
    `the broker's append time ${t}, not the create time 1000000`,
  );
  assert.ok(t >= appended.before - 1000 && t <= appended.after + 1000);

  const times = byCheck.get("offsets_for_times");
  assert.ok(times && !times.failed, context);
  assert.deepEqual(times.answers, {
    before_all: 0,
    exact_first: 0,
    exact_4: 4,
    between_6_7: 7,
    exact_last: 9,
    after_all: -1,
  });
  // The ten records were one batch: the answers came from inside it.
  const topic = await broker.context.meta.getTopic("times");
  const index = await broker.context.meta.readIndex(topic!.id, 0, 0, 1 << 30);
  assert.deepEqual(index.map((e) => [e.baseOffset, e.lastOffset]), [[0, 9]]);
});
