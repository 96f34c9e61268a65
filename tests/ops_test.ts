/**
 * Operating the broker: `/metrics` counts exactly what happened, `/readyz`
 * follows the stores' reachability, JSON logs are one object per line and
 * never show a secret, and SIGTERM finishes in-flight work within the
 * shutdown deadline, then the process exits.
 */

import assert from "node:assert/strict";
import { FETCH_API, PRODUCE_API } from "../protocol/generated/mod.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { DENO, ROOT, spawnBroker, testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, produceRequest } from "./wire_requests.ts";
import { createTopic, records } from "./helpers.ts";
import { parsePrometheus } from "./prometheus.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import type { MetaStore } from "../stores/types.ts";
import { redactSecrets } from "../broker/logging.ts";

/** Creates a one-partition topic; its name and id. */
const createTopic1 = async (c: WireClient, name: string) => ({
  name,
  id: await createTopic(c, name, 1),
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function scrape(port: number) {
  const r = await get(port, "/metrics");
  assert.equal(r.status, 200);
  return parsePrometheus(r.body);
}

Deno.test("/metrics parses as Prometheus text and counts one produce and one fetch exactly", async () => {
  await using broker = await testBroker({ httpPort: 0 });
  await using c = await WireClient.connect(broker.port);
  // Count the bytes that really cross the socket, frames included.
  let sent = 0;
  let received = 0;
  const sendRaw = c.sendRaw.bind(c);
  c.sendRaw = (b: Uint8Array) => {
    sent += b.length;
    return sendRaw(b);
  };
  const readFrame = c.readFrame.bind(c);
  c.readFrame = async () => {
    const f = await readFrame();
    if (f !== null) received += f.length + 4;
    return f;
  };
  const topic = await createTopic1(c, "metered");
  const port = broker.httpPort!;
  const before = await scrape(port);
  sent = received = 0;

  const batch = buildBatch(records(5));
  const p = await c.call(PRODUCE_API, 12, produceRequest("metered", batch));
  assert.equal(p.responses[0].partitionResponses[0].errorCode, 0);
  const f = await c.call(FETCH_API, 17, fetchRequest(topic));
  assert.equal(f.responses[0].partitions[0].errorCode, 0);
  const after = await scrape(port);

  const delta = (name: string, labels: Record<string, string> = {}) =>
    after.sum(name, labels) - before.sum(name, labels);
  const produce = { api_key: "0", api: "Produce", version: "12" };
  const fetchV = { api_key: "1", api: "Fetch", version: "17" };
  assert.equal(delta("skb_requests_total", produce), 1);
  assert.equal(delta("skb_requests_total", fetchV), 1);
  assert.equal(delta("skb_requests_total"), 2);
  assert.equal(delta("skb_request_errors_total"), 0);
  assert.equal(delta("skb_request_duration_seconds_count", { api: "Produce" }), 1);
  assert.equal(delta("skb_request_duration_seconds_count", { api: "Fetch" }), 1);
  assert.equal(delta("skb_records_produced_total"), 5);
  assert.equal(delta("skb_records_fetched_total"), 5);
  assert.equal(delta("skb_bytes_in_total"), sent);
  assert.equal(delta("skb_bytes_out_total"), received);
  assert.equal(delta("skb_flush_bytes_count"), 1);
  assert.equal(delta("skb_flush_bytes_sum"), batch.length);
  assert.equal(delta("skb_flush_duration_seconds_count"), 1);
  assert.equal(delta("skb_flushed_batches_total"), 1);
  assert.equal(delta("skb_store_operation_duration_seconds_count", { op: "commitBatches" }), 1);
  assert.equal(
    delta("skb_store_operation_duration_seconds_count", { store: "log", op: "write" }),
    1,
  );
  assert.equal(delta("skb_store_operation_errors_total"), 0);
  assert.equal(after.get("skb_connections"), 1);
  assert.equal(after.types.get("skb_request_duration_seconds"), "histogram");
  assert.equal(after.types.get("skb_requests_total"), "counter");
  assert.equal(after.types.get("skb_connections"), "gauge");
});

Deno.test("metrics gauges added by other parts of the broker are rendered", async () => {
  await using broker = await testBroker({ httpPort: 0 });
  const m = broker.context.metrics;
  m.gauges.set("skb_consumer_groups", () => ({ 'state="Stable"': 2, 'state="Empty"': 1 }));
  m.gauges.set("skb_consumer_group_members", () => 7);
  m.gauges.set("skb_broken_gauge", () => {
    throw new Error("not now");
  });
  const x = await scrape(broker.httpPort!);
  assert.equal(x.get("skb_consumer_groups", { state: "Stable" }), 2);
  assert.equal(x.get("skb_consumer_group_members"), 7);
  assert.equal(x.types.get("skb_consumer_group_members"), "gauge");
  assert.equal(x.types.has("skb_broken_gauge"), false);
});

/** A meta store whose ping can be made to fail or hang, as when Redis goes away. */
function flakyMeta(): { meta: MetaStore; mode: { now: "up" | "down" | "hung" } } {
  const mode = { now: "up" as "up" | "down" | "hung" };
  const inner = new MemoryMetaStore();
  const meta = new Proxy(inner, {
    get(target, prop) {
      if (prop === "ping") {
        return () => {
          if (mode.now === "down") {
            return Promise.reject(new Error("connect ECONNREFUSED redis://default:pw@10.0.0.1"));
          }
          if (mode.now === "hung") return new Promise<void>(() => {});
          return target.ping();
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { meta, mode };
}

Deno.test("/readyz turns unhealthy while the meta store is down and healthy when it is back", async (t) => {
  const { meta, mode } = flakyMeta();
  await using broker = await testBroker({ meta, httpPort: 0, readyTimeoutMs: 300 });
  const port = broker.httpPort!;
  const ready = () => get(port, "/readyz");

  await t.step("ready while the stores answer", async () => {
    const r = await ready();
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: "ready", meta: "ok", log: "ok" });
  });
  await t.step("503 while meta pings fail, naming the store, without its password", async () => {
    mode.now = "down";
    const r = await ready();
    assert.equal(r.status, 503);
    const body = JSON.parse(r.body);
    assert.equal(body.status, "not ready");
    assert.equal(body.log, "ok");
    assert.match(body.meta, /ECONNREFUSED/);
    assert.doesNotMatch(r.body, /:pw@/);
    assert.equal((await get(port, "/healthz")).status, 200, "alive all the same");
  });
  await t.step("ready again when meta is back", async () => {
    mode.now = "up";
    assert.equal((await ready()).status, 200);
  });
  await t.step("503 within the timeout while meta pings hang", async () => {
    mode.now = "hung";
    const started = performance.now();
    const [a, b] = await Promise.all([ready(), ready()]);
    assert.equal(a.status, 503);
    assert.equal(b.status, 503);
    assert.match(JSON.parse(a.body).meta, /no answer within 300 ms/);
    assert.ok(performance.now() - started < 2000);
  });
  await t.step("ready again, and unknown paths get 404", async () => {
    mode.now = "up";
    assert.equal((await ready()).status, 200);
    assert.equal((await get(port, "/nope")).status, 404);
  });
});

Deno.test("the shutdown deadline bounds close() when a store hangs", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const inner = new MemoryMetaStore();
  let hang = false;
  const meta = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (prop === "commitBatches") {
        return async (...args: Parameters<MetaStore["commitBatches"]>) => {
          if (hang) await released;
          return target.commitBatches(...args);
        };
      }
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const broker = await testBroker({ meta, storeTimeoutMs: 60_000 });
  const c = await WireClient.connect(broker.port);
  await createTopic1(c, "stuck");
  hang = true;
  const inFlight = c.call(PRODUCE_API, 12, produceRequest("stuck", buildBatch(records(1))))
    .catch(() => null);
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  await broker.close(500);
  const took = performance.now() - started;
  assert.ok(took >= 450 && took < 2000, `close took ${took} ms`);
  release();
  await inFlight;
  await c[Symbol.asyncDispose]();
});

Deno.test("SIGTERM: in-flight requests and the flush buffer finish, then the process exits", async () => {
  await using broker = await spawnBroker([
    "--port",
    "0",
    "--meta",
    "memory:",
    "--log",
    "memory:",
    "--linger-ms",
    "3000",
    "--shutdown-timeout",
    "10000",
  ]);
  await using c = await WireClient.connect(broker.port);
  const topic = await createTopic1(c, "draining");
  await using poller = await WireClient.connect(broker.port);
  // A long poll (20 s) and a produce waiting in the flush buffer (3 s linger).
  const poll = poller.call(FETCH_API, 17, fetchRequest(topic, 0, 0, 20_000));
  const produced = c.call(PRODUCE_API, 12, produceRequest("draining", buildBatch(records(3))));
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const status = broker.stop("SIGTERM");
  const p = await produced;
  assert.equal(p.responses[0].partitionResponses[0].errorCode, 0, "the buffered produce committed");
  assert.equal(p.responses[0].partitionResponses[0].baseOffset, 0);
  const f = await poll;
  assert.equal(f.responses[0].partitions[0].errorCode, 0, "the long poll was answered");
  const s = await status;
  const took = performance.now() - started;
  assert.equal(s.code, 0, broker.output());
  assert.ok(took < 2500, `exited after ${took} ms: the linger and the long poll were cut short`);
  assert.match(broker.output(), /SIGTERM.*finishing in-flight requests/);
});

/** Runs main.ts to completion (it is expected to fail to start); returns its output. */
async function failedStart(args: string[]): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", new URL("main.ts", ROOT).pathname, "--host", "127.0.0.1", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

function assertJsonLines(output: string): Record<string, unknown>[] {
  const lines = output.split("\n").filter((l) => l !== "");
  assert.ok(lines.length > 0, "no output");
  return lines.map((l) => {
    let obj;
    try {
      obj = JSON.parse(l);
    } catch {
      assert.fail(`Not a JSON line: ${l}`);
    }
    assert.equal(typeof obj, "object", l);
    assert.ok(obj !== null && !Array.isArray(obj), l);
    return obj;
  });
}

const SECRET = "hunter2-Secret";

Deno.test("logs: JSON lines with request detail at debug, and never a store password", async (t) => {
  await t.step("a serving broker at debug writes one JSON object per line", async () => {
    const dir = await Deno.makeTempDir({ prefix: "skb-logs-" });
    try {
      let output = "";
      {
        await using broker = await spawnBroker([
          "--port",
          "0",
          "--http-port",
          "0",
          "--data-dir",
          dir,
          "--log-format",
          "json",
          "--log-level",
          "debug",
        ]);
        await using c = await WireClient.connect(broker.port);
        await createTopic1(c, "logged");
        await c.call(PRODUCE_API, 12, produceRequest("logged", buildBatch(records(2))));
        assert.equal((await get(broker.httpPort!, "/readyz")).status, 200);
        assert.equal((await broker.stop("SIGTERM")).code, 0);
        output = broker.output();
      }
      const logs = assertJsonLines(output);
      const requests = logs.filter((l) =>
        (l.properties as Record<string, unknown>)?.api === "Produce"
      );
      assert.equal(requests.length, 1, "one debug line for the one Produce");
      const props = requests[0].properties as Record<string, unknown>;
      assert.equal(requests[0].level, "DEBUG");
      assert.equal(props.clientId, "wire-test");
      assert.equal(props.version, 12);
      assert.equal(typeof props.correlationId, "number");
      assert.equal(typeof props.ms, "number");
      assert.ok(logs.some((l) => /^listening on 127\.0\.0\.1:\d+$/.test(String(l.message))));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  const urls: [string, string[]][] = [
    ["a redis URL that cannot connect", [
      "--meta",
      `redis://admin:${SECRET}@127.0.0.1:1/0`,
      "--log",
      "memory:",
    ]],
    ["an unknown meta scheme", [
      "--meta",
      `bogus://admin:${SECRET}@host/x?token=${SECRET}`,
      "--log",
      "memory:",
    ]],
    ["an unknown log scheme", [
      "--meta",
      "memory:",
      "--log",
      `bogus://bucket/p?secretKey=${SECRET}&region=x`,
    ]],
  ];
  for (const [what, args] of urls) {
    for (const format of ["json", "text"]) {
      await t.step(`${what} fails to start without showing the password (${format})`, async () => {
        const r = await failedStart([...args, "--port", "0", "--log-format", format]);
        assert.notEqual(r.code, 0, r.output);
        assert.ok(!r.output.includes(SECRET), `password in output:\n${r.output}`);
        assert.match(r.output, /\*\*\*/, r.output);
        if (format === "json") assertJsonLines(r.output);
      });
    }
  }

  await t.step("redactSecrets hides passwords, tokens and keys in free text", () => {
    const text = redactSecrets(
      `x redis://u:${SECRET}@h:6379/0 y https://h/p?X-Amz-Signature=${SECRET}&a=1 ` +
        `rediss://:${SECRET}@h "Authorization: Bearer ${SECRET}"`,
    );
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /redis:\/\/u:\*\*\*@h:6379\/0/);
    assert.match(text, /a=1/);
  });
});
