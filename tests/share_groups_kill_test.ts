/**
 * Share groups (KIP-932) over two broker processes sharing SQLite + files,
 * one of them killed with SIGKILL mid-run. Share consumers of three clients
 * (Java KafkaShareConsumer, franz-go, librdkafka) are spread over both
 * brokers while records keep arriving; broker A dies under two of them.
 * What must hold:
 *
 * - no record is delivered to two consumers at once: a record delivered again
 *   was never acknowledged by its earlier holder, and came back only once that
 *   holder's acquisition lock (share.record.lock.duration.ms, here Kafka's
 *   smallest, 15 s) had run out;
 * - none is lost: every record is acknowledged by some consumer and the
 *   share-partition start offset reaches the end of the log, so the records
 *   the dead broker's consumers held came back to the others.
 */

import assert from "node:assert/strict";
import { type BrokerProcess, DENO, spawnBrokerCommand } from "./broker_util.ts";
import { DRIVERS, type Run } from "./client_drivers.ts";
import { brokerArgs, createTopic, produceAll, sleep } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { openMetaStore } from "../stores/registry.ts";
import type { MetaStore } from "../stores/types.ts";
import { setGroupConfigs, shareConsumer, type ShareLine, shareLines } from "./share_groups_util.ts";

const LOCK_MS = 15_000;
/** How long A's consumers hold each poll's records before acknowledging them. */
const HOLD_MS = 1_500;
/**
 * Time a client may keep a record between its broker's acquisition and handing it over: the
 * clients fetch ahead, so records acquired while the application holds the previous poll's wait
 * up to that hold in the client, plus a fetch's round trip.
 */
const HAND_OVER_SLACK_MS = HOLD_MS + 1_500;
const driver = (name: string) => DRIVERS.find((d) => d.name === name)!;

async function members(meta: MetaStore, group: string): Promise<number> {
  const g = await meta.getGroup(group);
  return g ? JSON.parse(g.state).members.length : 0;
}

async function startOffset(meta: MetaStore, group: string, topicId: string) {
  const s = await meta.getShareState(group, topicId, 0);
  return s ? JSON.parse(s.state).start as number : 0;
}

Deno.test({
  name:
    "share consumers over two brokers sharing SQLite + files, one SIGKILLed: no record held twice, none lost",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "skb-share-kill-" });
    const metaUrl = `sqlite:${dir}/meta.db`;
    const logUrl = `file:${dir}/log`;
    const brokers: BrokerProcess[] = [];
    const meta = openMetaStore(metaUrl);
    const stop = `${dir}/stop`;
    const runs: { via: number; client: string; run: Run }[] = [];
    try {
      // A's consumers are slow workers (each holds a poll's records for 1.5 s before it
      // acknowledges them), so that they hold records when A dies.
      const plan = [
        { via: 0, client: "java", extra: ["--hold-ms", String(HOLD_MS)] },
        { via: 0, client: "franzgo", extra: ["--hold-ms", String(HOLD_MS)] },
        { via: 1, client: "librdkafka", extra: [] },
        { via: 1, client: "java", extra: [] },
      ];
      for (const name of new Set(plan.map((p) => p.client))) await driver(name).check();
      for (let i = 0; i < 2; i++) {
        brokers.push(
          await spawnBrokerCommand(DENO, brokerArgs(0, metaUrl, logUrl), { timeoutMs: 60_000 }),
        );
      }
      await using c = await WireClient.connect(brokers[1].port);
      const viaA = await WireClient.connect(brokers[0].port);
      const topicId = await createTopic(c, "tasks", 1);
      await setGroupConfigs(c, "pool", {
        "share.auto.offset.reset": "earliest",
        "share.record.lock.duration.ms": String(LOCK_MS),
      });
      for (const p of plan) {
        runs.push({
          ...p,
          run: shareConsumer(
            driver(p.client),
            `127.0.0.1:${brokers[p.via].port}`,
            "tasks",
            "pool",
            ["--stop-file", stop, ...p.extra],
            150_000,
          ),
        });
      }
      for (let i = 0; i < 600 && await members(meta, "pool") < plan.length; i++) await sleep(100);
      if (await members(meta, "pool") < plan.length) {
        await Deno.writeTextFile(stop, "");
        const outs = await Promise.all(runs.map((r) => r.run.done));
        assert.fail(
          `only ${await members(meta, "pool")} of ${plan.length} consumers joined:\n` +
            outs.map((o, k) => `${runs[k].client}: ${o.stderr.slice(-1500)}`).join("\n"),
        );
      }

      // Records keep arriving for 8 s, through both brokers in turn until broker A is killed
      // (3 s in), then through B.
      const N = 20_000;
      const t0 = performance.now();
      let killedAt = 0;
      for (let i = 0; i < N; i += 500) {
        await produceAll(!killedAt && i % 1000 === 0 ? viaA : c, "tasks", 1, i, 500);
        if (!killedAt && performance.now() - t0 > 3000) {
          const s = await brokers[0].stop("SIGKILL");
          assert.equal(s.signal, "SIGKILL");
          killedAt = Date.now();
          await viaA[Symbol.asyncDispose]();
        }
        await sleep(Math.max(0, t0 + (i + 500) * 0.4 - performance.now()));
      }
      assert.ok(killedAt > 0, "broker A was killed while records were arriving");
      let start = 0;
      for (let i = 0; i < 900 && start < N; i++) {
        await sleep(100);
        start = await startOffset(meta, "pool", topicId);
      }
      const secs = (performance.now() - t0) / 1000;
      assert.equal(start, N, `every record acknowledged (start offset ${start} of ${N})`);
      await Deno.writeTextFile(stop, "");

      const outs = await Promise.all(runs.map((r) => r.run.done));
      // Per offset, every delivery (consumer, time) and who acknowledged it.
      const deliveries = new Map<number, { k: number; at: number }[]>();
      const acceptedBy = new Map<number, number>();
      const perConsumer: string[] = [];
      for (const [k, out] of outs.entries()) {
        const ls: ShareLine[] = shareLines(out.stdout);
        if (runs[k].via === 1) {
          assert.equal(
            out.code,
            0,
            `consumer ${k} (${runs[k].client}): ${out.stderr.slice(-2000)}`,
          );
        }
        let n = 0;
        let acked = 0;
        for (const l of ls) {
          if (l.o !== undefined) {
            deliveries.set(l.o, [...deliveries.get(l.o) ?? [], { k, at: l.at! }]);
            n++;
          }
          for (const [, o] of l.acked ?? []) {
            assert.equal(acceptedBy.get(o), undefined, `offset ${o} acknowledged twice`);
            acceptedBy.set(o, k);
            acked++;
          }
        }
        perConsumer.push(
          `${runs[k].client}@${
            runs[k].via === 0 ? "A" : "B"
          }: ${n} delivered, ${acked} acknowledged`,
        );
      }
      let redelivered = 0;
      let unanswered = 0;
      let minGap = Infinity;
      for (let o = 0; o < N; o++) {
        const ds = (deliveries.get(o) ?? []).sort((x, y) => x.at - y.at);
        assert.ok(ds.length > 0, `offset ${o} never delivered`);
        const last = ds[ds.length - 1].k;
        if (!acceptedBy.has(o)) {
          // Only broker A can have taken an acknowledgement and died before answering it (the
          // start offset passed the record, so somebody's acknowledgement was applied).
          assert.equal(runs[last].via, 0, `offset ${o} never acknowledged`);
          unanswered++;
        } else {
          // Acknowledged by its last holder; every earlier holder lost it to an expired lock.
          assert.equal(acceptedBy.get(o), last, `offset ${o}: ${JSON.stringify(ds)}`);
        }
        for (let j = 1; j < ds.length; j++) {
          const gap = ds[j].at - ds[j - 1].at;
          minGap = Math.min(minGap, gap);
          assert.ok(
            gap >= LOCK_MS - HAND_OVER_SLACK_MS,
            `offset ${o} delivered to ${ds[j - 1].k} and then to ${ds[j].k} ${gap} ms later, ` +
              `while the first lock was live`,
          );
          assert.ok(
            runs[ds[j - 1].k].via === 0,
            `offset ${o} redelivered from a live broker's consumer`,
          );
          redelivered++;
        }
      }
      const servedByA = outs.filter((_, k) => runs[k].via === 0).map((o) => shareLines(o.stdout))
        .flat().filter((l) => l.o !== undefined && l.at! < killedAt).length;
      console.log(
        `${N} records in ${secs.toFixed(1)} s; ${perConsumer.join("; ")}; ` +
          `${servedByA} delivered through A before its kill; ${redelivered} redelivered after their ` +
          `lock expired (shortest gap ${minGap === Infinity ? "-" : minGap} ms); ` +
          `${unanswered} acknowledged through A with the answer lost`,
      );
      assert.ok(servedByA > 0, "broker A served records before it was killed");
      assert.ok(redelivered > 0, "records A's consumers held came back to the others");
    } finally {
      await Deno.writeTextFile(stop, "").catch(() => {});
      await Promise.all(runs.map((r) => r.run.done));
      for (const b of brokers) await b.stop("SIGKILL");
      await meta.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
