/**
 * Transactions with real clients, unmodified, over real TCP (issue 12), per
 * client family: a transactional consume-transform-produce loop
 * (CONTRACT.md "Transactions") copies 2,000 records of a 3-partition topic to
 * another, one transaction per poll with the group's offsets in it
 * (sendOffsetsToTransaction / TxnOffsetCommit), aborting a transaction now and
 * then. Half way, a second instance with the same transactional.id takes over:
 * it fences the first, whose open transaction (records, and the group's offsets
 * set back to 1) is aborted and whose commit then
 * fails with the client's fencing error, and carries on from the offsets the
 * first committed. A read_committed consumer then sees every input record
 * exactly once and in order; a read_uncommitted one sees the aborted records
 * too; the group's offsets are the ends of the input partitions.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { defaultOffsetFetchRequest, OFFSET_FETCH_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { testBroker } from "./broker_util.ts";
import { type ClientDriver, DRIVERS, runDriver } from "./client_drivers.ts";
import { type Consumed, contractRecord, parseLines, type Produced } from "./contract_records.ts";
import { b64, createTopic } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";

const COUNT = 2_000;
const PARTITIONS = 3;
const STEP_MS = 60_000;

/** The fencing error each client reports when its transaction is fenced. */
const FENCED: Record<string, RegExp> = {
  java: /^ProducerFencedException$/,
  librdkafka: /^_FENCED$/,
  franzgo: /^PRODUCER_FENCED$/,
  kafkajs: /^INVALID_PRODUCER_EPOCH$/, // its EndTxn v1 predates PRODUCER_FENCED (KIP-588)
};

/** A line of a `txn` run. */
type TxnLine =
  | { commit: [number, number][]; records: number }
  | { abort: number }
  | { held: true }
  | { fenced: string }
  | { done: true; count: number; commits: number; aborts: number };

/** A driver process whose JSON lines are read as they come. */
class Running {
  readonly lines: TxnLine[] = [];
  readonly exited: Promise<{ code: number; stderr: string }>;
  private stderr = "";

  constructor(driver: ClientDriver, args: string[]) {
    const child = new Deno.Command(driver.command[0], {
      args: [...driver.command.slice(1), ...args],
      stdout: "piped",
      stderr: "piped",
      cwd: new URL("../", import.meta.url).pathname,
    }).spawn();
    const readOut = (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line.startsWith("{")) this.lines.push(JSON.parse(line));
        }
      }
    })();
    const readErr = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderr = (this.stderr + chunk).slice(-20_000);
      }
    })();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 3 * STEP_MS);
    this.exited = (async () => {
      const status = await child.status;
      clearTimeout(timer);
      await Promise.all([readOut, readErr]);
      return { code: status.code, stderr: this.stderr };
    })();
  }

  has(key: string): boolean {
    return this.lines.some((l) => key in l);
  }
}

/** Waits until `ok()` holds, polling; fails with `what` after `ms`. */
async function until(what: string, ok: () => boolean, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = (v: string | null) =>
  v === null ? null : new TextDecoder().decode(
    Uint8Array.from(atob(v), (c) => c.charCodeAt(0)),
  );

async function groupOffsets(port: number, group: string, topic: string) {
  await using c = await WireClient.connect(port);
  const res = await c.call(OFFSET_FETCH_API, 7, {
    ...defaultOffsetFetchRequest(),
    groupId: group,
    requireStable: true,
    topics: [{ name: topic, partitionIndexes: Array.from({ length: PARTITIONS }, (_, i) => i) }],
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return new Map(res.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset]));
}

/** The broker's refusals (server/connection.ts logs them at info), for failure messages. */
const refusals: string[] = [];

async function scenario(driver: ClientDriver, t: Deno.TestContext) {
  await driver.check();
  await using broker = await testBroker();
  const bootstrap = `127.0.0.1:${broker.port}`;
  const input = `${driver.name}-in`;
  const output = `${driver.name}-out`;
  const group = `${driver.name}-ctp`;
  const txnId = `${driver.name}-txn`;
  {
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, input, PARTITIONS);
    await createTopic(c, output, PARTITIONS);
  }
  const dir = await Deno.makeTempDir({ prefix: `skb-txn-${driver.name}-` });
  try {
    // Where input record i went, and each input partition's end.
    const keyAt = new Map<string, string | null>();
    const ends = new Map<number, number>();
    await t.step(`produce ${COUNT} input records`, async () => {
      const out = await runDriver(driver, [
        "produce",
        "--bootstrap",
        bootstrap,
        "--topic",
        input,
        "--count",
        String(COUNT),
      ]);
      for (const r of parseLines<Produced>(out).records) {
        keyAt.set(`${r.p}:${r.o}`, b64(contractRecord(r.i).key));
        ends.set(r.p, Math.max(ends.get(r.p) ?? 0, r.o + 1));
      }
      assert.equal(keyAt.size, COUNT);
    });

    const txn = (count: number, extra: string[] = []) => [
      "txn",
      "--bootstrap",
      bootstrap,
      "--in",
      input,
      "--out",
      output,
      "--group",
      group,
      "--txn-id",
      txnId,
      "--count",
      String(count),
      "--abort-every",
      "3",
      ...extra,
    ];
    let aborted = 0;
    await t.step("consume-transform-produce; a second instance fences the first", async () => {
      const hold = join(dir, "hold");
      const first = new Running(driver, txn(COUNT / 2, ["--hold-file", hold]));
      try {
        await until(
          `${driver.name}: the first instance holding an open transaction`,
          () => first.has("held") || first.has("done"),
        );
        assert.ok(first.has("held"), JSON.stringify(first.lines.slice(-3)));
      } catch (e) {
        const { stderr } = await first.exited;
        throw new Error(`${(e as Error).message}\n${stderr.slice(-3000)}\n${refusals.join("\n")}`);
      }
      const firstCount = first.lines.reduce((n, l) => n + ("records" in l ? l.records : 0), 0);
      const second = parseLines<TxnLine>(
        await runDriver(driver, txn(COUNT - firstCount), 3 * STEP_MS),
      );
      await Deno.writeTextFile(hold, "");
      const { code, stderr } = await first.exited;
      const fenced = first.lines.find((l) => "fenced" in l) as { fenced: string } | undefined;
      assert.ok(
        fenced,
        `${driver.name}: the first instance was not fenced:\n${stderr.slice(-3000)}`,
      );
      assert.match(fenced.fenced, FENCED[driver.name]);
      console.log(`${driver.name}: the first instance was fenced with ${fenced.fenced}`);
      assert.equal(code, 0, stderr.slice(-3000));
      const done = [first.lines.find((l) => "done" in l), second.done] as {
        count: number;
        aborts: number;
      }[];
      assert.equal(done[0].count + done[1].count, COUNT);
      aborted = (done[0].aborts + done[1].aborts) * PARTITIONS + PARTITIONS; // + the held ones
      assert.ok(done[0].aborts >= 2 && done[1].aborts >= 2, JSON.stringify(done));
    });

    const consume = async (isolation: string, count: number) => {
      const out = await runDriver(driver, [
        "consume",
        "--bootstrap",
        bootstrap,
        "--topic",
        output,
        "--count",
        String(count),
        "--isolation",
        isolation,
        "--timeout-ms",
        "30000",
      ]);
      return parseLines<Consumed>(out).records.map((r) => ({ ...r, text: text(r.v) }));
    };
    /** Asserts the committed records: every input record once, in order, in its partition. */
    const assertCommitted = (records: { p: number; k: string | null; text: string | null }[]) => {
      for (let p = 0; p < PARTITIONS; p++) {
        const got = records.filter((r) => r.p === p);
        const want = Array.from({ length: ends.get(p) ?? 0 }, (_, o) => `${p}:${o}`);
        assert.deepEqual(got.map((r) => r.text), want, `${driver.name}: partition ${p}`);
        for (const r of got) assert.equal(r.k, keyAt.get(r.text!), `key of ${r.text}`);
      }
    };

    await t.step("read_committed sees exactly the committed records, in order", async () => {
      assertCommitted(await consume("read_committed", COUNT));
    });

    await t.step("read_uncommitted sees the aborted records too", async () => {
      const all = await consume("read_uncommitted", COUNT + aborted);
      const junk = all.filter((r) => /^(aborted|held):/.test(r.text ?? ""));
      assert.equal(junk.length, aborted);
      assert.equal(junk.filter((r) => r.text!.startsWith("held:")).length, PARTITIONS);
      assertCommitted(all.filter((r) => !/^(aborted|held):/.test(r.text ?? "")));
    });

    await t.step("the group's offsets are the ends of the input", async () => {
      assert.deepEqual(await groupOffsets(broker.port, group, input), ends);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "transactions with real clients",
  async fn(t) {
    await configure({
      sinks: {
        refusals: (r: LogRecord) => {
          const line = r.message.join("");
          if (line.includes("refused")) refusals.push(line);
        },
      },
      loggers: [
        { category: ["skb"], lowestLevel: "info", sinks: ["refusals"] },
        { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
      ],
      reset: true,
    });
    try {
      const only = Deno.env.get("SKB_TXN_CLIENTS")?.split(",");
      for (const name of ["java", "librdkafka", "franzgo", "kafkajs"]) {
        if (only && !only.includes(name)) continue;
        const driver = DRIVERS.find((d) => d.name === name)!;
        await t.step(name, async (t) => {
          refusals.length = 0;
          try {
            await scenario(driver, t);
          } finally {
            if (refusals.length) console.error(`${name}: broker refusals:\n${refusals.join("\n")}`);
          }
        });
      }
    } finally {
      await reset();
    }
  },
});
