/**
 * Share groups (KIP-932) with librdkafka's share consumer (confluent-kafka for
 * Python, ShareConsumer) and franz-go's (kgo.ShareGroup), through their
 * drivers' share-consume command (tests/clients/CONTRACT.md), over real TCP.
 * For each client:
 *
 * - three consumers in one share group on a one-partition topic together
 *   receive every record of 30,000, and no record is acknowledged twice;
 * - records a consumer closes on without acknowledging, releases, or holds
 *   when its process dies come back to the next consumer with the delivery
 *   count raised (the dead one's as soon as its connections close, well
 *   before their acquisition lock would expire, as Kafka does);
 * - records delivered share.delivery.count.limit times and released again
 *   are archived: no consumer gets them after that;
 * - a read_committed group (share.isolation.level) gets committed and plain
 *   records only, never an aborted transaction's, and the transaction
 *   markers in its acquired ranges are acknowledged as gaps by the client,
 *   so the share-partition moves past them; a read_uncommitted group gets
 *   every data record.
 */

import assert from "node:assert/strict";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { DRIVERS, type Run } from "./client_drivers.ts";
import { createTopic, produceAll, sleep } from "./helpers.ts";
import {
  MIN_LOCK_MS,
  setGroupConfigs,
  shareConsumer,
  type ShareLine,
  shareLines,
  txnProducer,
} from "./share_groups_util.ts";

async function members(meta: MemoryMetaStore, group: string): Promise<number> {
  const g = await meta.getGroup(group);
  return g ? JSON.parse(g.state).members.length : 0;
}

async function startOffset(meta: MemoryMetaStore, group: string, topicId: string) {
  const s = await meta.getShareState(group, topicId, 0);
  return s ? JSON.parse(s.state).start as number : 0;
}

/** Runs one consumer to its end, failing on a non-zero exit. */
async function finished(run: Run, what: string) {
  const out = await run.done;
  assert.equal(out.code, 0, `${what}: exit ${out.code}\n${out.stderr.slice(-3000)}`);
  return shareLines(out.stdout);
}

for (const name of ["librdkafka", "franzgo"]) {
  const d = DRIVERS.find((x) => x.name === name)!;

  Deno.test({
    name: `${name}: three share consumers on one partition receive every record once between them`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await d.check();
      const meta = new MemoryMetaStore();
      await using broker = await testBroker({ meta });
      await using c = await WireClient.connect(broker.port);
      const topicId = await createTopic(c, "queue", 1);
      await setGroupConfigs(c, "workers", { "share.auto.offset.reset": "earliest" });
      const stop = await Deno.makeTempFile({ prefix: "skb-share-stop-" });
      await Deno.remove(stop);
      const bootstrap = `127.0.0.1:${broker.port}`;
      const runs = [0, 1, 2].map(() =>
        shareConsumer(d, bootstrap, "queue", "workers", ["--stop-file", stop], 120_000)
      );
      const N = 30_000;
      try {
        // All three in the group before the records exist, so that they share them.
        for (let i = 0; i < 300 && await members(meta, "workers") < 3; i++) await sleep(100);
        assert.equal(await members(meta, "workers"), 3, "three members joined");
        const t0 = performance.now();
        for (let i = 0; i < N; i += 500) await produceAll(c, "queue", 1, i, 500);
        // Done when the share-partition start offset reaches the end: every record acknowledged.
        let start = 0;
        for (let i = 0; i < 1200 && start < N; i++) {
          await sleep(100);
          start = await startOffset(meta, "workers", topicId);
        }
        console.log(
          `${name}: ${N} records produced and acknowledged in ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s`,
        );
        assert.equal(start, N, "every record acknowledged");
      } finally {
        await Deno.writeTextFile(stop, "");
      }
      const raw = await Promise.all(runs.map((r) => r.done));
      const outs = await Promise.all(runs.map((r, k) => finished(r, `consumer ${k}`)));
      await Deno.remove(stop).catch(() => {});
      const failures = raw.map((o, k) =>
        `consumer ${k}: ` +
        o.stderr.split("\n").filter((l) => /fail|error/i.test(l)).slice(0, 5).join("\n")
      ).join("\n");
      const acked = new Map<number, number>();
      const perConsumer: number[] = [];
      // A record's first delivery (delivery count 1) happens once: a second one would be the same
      // acquisition handed to two consumers.
      const firstTo = new Map<number, number>();
      for (const [k, ls] of outs.entries()) {
        let n = 0;
        for (const l of ls) {
          if (l.o !== undefined && l.dc === 1) {
            assert.equal(firstTo.get(l.o), undefined, `offset ${l.o} first delivered twice`);
            firstTo.set(l.o, k);
          }
          for (const [, o] of l.acked ?? []) {
            assert.equal(
              acked.get(o),
              undefined,
              `offset ${o} acknowledged by ${acked.get(o)} and ${k}`,
            );
            acked.set(o, k);
            n++;
          }
        }
        perConsumer.push(n);
      }
      console.log(`${name}: acknowledged per consumer: ${perConsumer.join(", ")}`);
      assert.equal(acked.size, N, `acknowledged ${acked.size} of ${N}:\n${failures}`);
      for (let o = 0; o < N; o++) assert.ok(acked.has(o), `offset ${o} never acknowledged`);
      assert.ok(perConsumer.filter((n) => n > 0).length >= 2, "the records were shared");
    },
  });

  Deno.test({
    name:
      `${name}: records closed on, released, or held by a crashed share consumer come back with the delivery count raised`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await d.check();
      const meta = new MemoryMetaStore();
      await using broker = await testBroker({ meta });
      await using c = await WireClient.connect(broker.port);
      const topicId = await createTopic(c, "jobs", 1);
      await setGroupConfigs(c, "crew", {
        "share.auto.offset.reset": "earliest",
        "share.record.lock.duration.ms": String(MIN_LOCK_MS),
      });
      const N = 200;
      for (let i = 0; i < N; i += 20) await produceAll(c, "jobs", 1, i, 20);
      const bootstrap = `127.0.0.1:${broker.port}`;
      // Per offset, the delivery counts the consumers saw.
      const seen = new Map<number, number[]>();
      const note = (ls: ShareLine[]) => {
        const got: number[] = [];
        for (const l of ls) {
          if (l.o === undefined) continue;
          const before = seen.get(l.o) ?? [];
          // Raised once per earlier delivery (at least: a client may have acquired records
          // ahead of its polls and given them back unseen when it closed).
          assert.ok(
            l.dc! >= before.length + 1 && l.dc! > (before[before.length - 1] ?? 0),
            `delivery count ${l.dc} of offset ${l.o} after deliveries ${before}`,
          );
          seen.set(l.o, [...before, l.dc!]);
          got.push(l.o);
        }
        return got;
      };
      const run = (extra: string[]) => shareConsumer(d, bootstrap, "jobs", "crew", extra);
      const closed = note(await finished(run(["--ack", "none"]), "closing consumer"));
      assert.ok(closed.length > 0, "the first consumer got records");
      const released = note(await finished(run(["--ack", "release"]), "releasing consumer"));
      assert.ok(released.some((o) => closed.includes(o)), "closed-on records came back");
      const crashed = note(await finished(run(["--ack", "crash"]), "crashing consumer"));
      const crashedAt = performance.now();
      assert.ok(crashed.some((o) => released.includes(o)), "released records came back");
      // The last acknowledges everything: what the crashed one held came back when its
      // connection closed, not when its 15 s lock would have run out.
      const lastRun = await finished(run(["--count", String(N)]), "accepting consumer");
      const last = note(lastRun);
      assert.deepEqual([...last].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
      const acked = lastRun.flatMap((l) => l.acked ?? []).map(([, o]) => o);
      assert.equal(new Set(acked).size, N, "every record accepted once");
      const firstRedelivery = lastRun.find((l) => l.o !== undefined && crashed.includes(l.o));
      assert.ok(firstRedelivery, "the crashed consumer's records came back");
      const waited = performance.now() - crashedAt;
      assert.ok(
        waited < MIN_LOCK_MS - 5000,
        `a crashed consumer's records came back ${waited.toFixed(0)} ms later, not at once`,
      );
      assert.ok(
        [...seen.values()].some((dcs) => dcs.length >= 4),
        "some records were delivered four times (closed on, released, crashed, accepted)",
      );
      console.log(
        `${name}: deliveries: closed ${closed.length}, released ${released.length}, crashed ${crashed.length}, accepted ${last.length}`,
      );
      assert.equal(await startOffset(meta, "crew", topicId), N);
    },
  });

  Deno.test({
    name: `${name}: share.isolation.level: aborted transactions never reach a read_committed group`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await d.check();
      const meta = new MemoryMetaStore();
      await using broker = await testBroker({ meta, groupInitialRebalanceDelayMs: 0 });
      await using c = await WireClient.connect(broker.port);
      const topicId = await createTopic(c, "ledger", 1);
      for (const [group, level] of [["rc", "read_committed"], ["ru", "read_uncommitted"]]) {
        await setGroupConfigs(c, group, {
          "share.auto.offset.reset": "earliest",
          "share.isolation.level": level,
        });
      }
      // 0-2 committed (marker 3), 4-6 aborted (marker 7), 8 plain, 9-10 committed (marker 11).
      const p = await txnProducer(c, `ledger-${name}`, "ledger");
      await p.send(0, 3);
      await p.end(true);
      await p.send(4, 3);
      await p.end(false);
      await produceAll(c, "ledger", 1, 8, 1);
      await p.send(9, 2);
      await p.end(true);
      const bootstrap = `127.0.0.1:${broker.port}`;
      const got = async (group: string, n: number) => {
        const ls = await finished(
          shareConsumer(d, bootstrap, "ledger", group, ["--count", String(n)]),
          `${group} consumer`,
        );
        return ls.filter((l) => l.o !== undefined).map((l) => l.o!).sort((a, b) => a - b);
      };
      assert.deepEqual(await got("rc", 6), [0, 1, 2, 8, 9, 10]);
      assert.deepEqual(await got("ru", 9), [0, 1, 2, 4, 5, 6, 8, 9, 10]);
      // Every offset is done, the markers and the archived aborted records included.
      for (const group of ["rc", "ru"]) {
        let start = 0;
        for (let i = 0; i < 50 && start < 12; i++) {
          start = await startOffset(meta, group, topicId);
          if (start < 12) await sleep(100);
        }
        assert.equal(start, 12, `${group}: share-partition start offset`);
      }
    },
  });

  Deno.test({
    name: `${name}: records released at share.delivery.count.limit are archived`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await d.check();
      const meta = new MemoryMetaStore();
      await using broker = await testBroker({ meta });
      await using c = await WireClient.connect(broker.port);
      const topicId = await createTopic(c, "poison", 1);
      const LIMIT = 2; // Kafka's smallest (group.share.min.delivery.count.limit)
      await setGroupConfigs(c, "careful", {
        "share.auto.offset.reset": "earliest",
        "share.delivery.count.limit": String(LIMIT),
      });
      const N = 100;
      await produceAll(c, "poison", 1, 0, N);
      const bootstrap = `127.0.0.1:${broker.port}`;
      const counts = new Map<number, number[]>();
      // Release (each run its first poll) until the share-partition moved past every record.
      for (let run = 0; run < 4 * LIMIT && await startOffset(meta, "careful", topicId) < N; run++) {
        const ls = await finished(
          shareConsumer(d, bootstrap, "poison", "careful", ["--ack", "release"]),
          `releasing consumer ${run}`,
        );
        for (const l of ls) {
          if (l.o !== undefined) counts.set(l.o, [...counts.get(l.o) ?? [], l.dc!]);
        }
      }
      // All archived: nobody accepted a record, yet the share-partition moved past every one, and
      // none was delivered past the limit. (A client that fetches ahead, as franz-go does, may
      // acquire released records again before it closes and hand them back unseen: the broker
      // counts those deliveries too.)
      assert.equal(await startOffset(meta, "careful", topicId), N);
      assert.equal(counts.size, N, "every record was delivered");
      for (const [o, dcs] of counts) {
        assert.ok(dcs.every((dc) => dc <= LIMIT), `offset ${o} delivered with counts ${dcs}`);
      }
      // A new consumer gets only the records produced after them.
      await produceAll(c, "poison", 1, N, 50);
      const ls = await finished(
        shareConsumer(d, bootstrap, "poison", "careful", ["--count", "50"]),
        "accepting consumer",
      );
      const got = ls.filter((l) => l.o !== undefined);
      assert.deepEqual(got.map((l) => l.o), Array.from({ length: 50 }, (_, i) => N + i));
      assert.ok(got.every((l) => l.dc === 1));
      assert.equal(await startOffset(meta, "careful", topicId), N + 50);
    },
  });
}
