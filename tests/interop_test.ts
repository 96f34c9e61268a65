/**
 * Real Kafka clients, unmodified, over real TCP, against a broker process on
 * the default stores (SQLite meta, file log): per client, a 3-partition topic
 * per compression codec, 10,000 records with keys, headers and null values,
 * consumed back and compared byte for byte and in per-partition order;
 * ListOffsets earliest/latest/by-timestamp; then the broker is restarted on
 * the same data and everything is read again.
 */

import assert from "node:assert/strict";
import { spawnBroker } from "./broker_util.ts";
import { type ClientDriver, DRIVERS, runDriver } from "./client_drivers.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";

const COUNT = 10_000;

async function roundTrip(driver: ClientDriver, t: Deno.TestContext) {
  await driver.check();
  const dir = await Deno.makeTempDir({ prefix: `skb-interop-${driver.name}-` });
  const flags = ["--port", "0", "--data-dir", dir, "--log-level", "warning"];
  const produced = new Map<string, Produced[]>();
  try {
    {
      await using broker = await spawnBroker(flags);
      const bootstrap = `127.0.0.1:${broker.port}`;
      for (const codec of driver.codecs) {
        const topic = `${driver.name}-${codec}`;
        await t.step(`${codec}: produce ${COUNT} and consume them back`, async () => {
          const sentAt = Date.now();
          const p = parseLines<Produced>(
            await runDriver(driver, [
              "produce",
              "--bootstrap",
              bootstrap,
              "--topic",
              topic,
              "--count",
              String(COUNT),
              "--compression",
              codec,
              "--create-partitions",
              "3",
            ]),
          );
          assert.equal(p.records.length, COUNT, `${topic}: acknowledged ${p.records.length}`);
          assert.equal(
            new Set(p.records.map((r) => r.p)).size,
            3,
            `${topic}: records should spread over 3 partitions`,
          );
          produced.set(topic, p.records);
          const c = parseLines<Consumed>(
            await runDriver(driver, [
              "consume",
              "--bootstrap",
              bootstrap,
              "--topic",
              topic,
              "--count",
              String(COUNT),
            ]),
          );
          assertSameRecords(p.records, c.records, topic);
          for (const r of c.records) {
            assert.ok(
              r.ts >= sentAt - 60_000 && r.ts <= Date.now() + 60_000,
              `${topic}: timestamp ${r.ts}`,
            );
          }

          // ListOffsets: earliest 0, latest = count per partition, by timestamp consistent with the data.
          const middle = c.records[Math.floor(c.records.length / 2)];
          const o = parseLines<
            { p: number; earliest: number; latest: number; byTimestamp: number }
          >(
            await runDriver(driver, [
              "offsets",
              "--bootstrap",
              bootstrap,
              "--topic",
              topic,
              "--timestamp",
              String(middle.ts),
            ]),
          );
          assert.equal(o.records.length, 3);
          for (const part of o.records) {
            const mine = c.records.filter((r) => r.p === part.p);
            assert.equal(part.earliest, 0, `${topic}/${part.p} earliest`);
            assert.equal(part.latest, mine.length, `${topic}/${part.p} latest`);
            const hits = mine.filter((r) => r.ts >= middle.ts).map((r) => r.o);
            if (hits.length === 0) {
              assert.equal(part.byTimestamp, -1, `${topic}/${part.p} by timestamp`);
            } else {
              // Batch granularity: the answer is at or before the first record at the timestamp,
              // and no record before it has reached the timestamp.
              const exact = Math.min(...hits);
              assert.ok(
                part.byTimestamp <= exact,
                `${topic}/${part.p}: by timestamp ${part.byTimestamp} > ${exact}`,
              );
              assert.ok(
                mine.filter((r) => r.o < part.byTimestamp).every((r) => r.ts < middle.ts),
                `${topic}/${part.p}: a record before ${part.byTimestamp} already reached the timestamp`,
              );
            }
          }
        });
      }
      const status = await broker.stop("SIGTERM");
      assert.equal(status.code, 0, `broker exit: ${broker.output()}`);
    }
    await t.step("after a restart on the same data every record reads back the same", async () => {
      await using again = await spawnBroker(flags);
      const bootstrap = `127.0.0.1:${again.port}`;
      for (const [topic, records] of produced) {
        const c = parseLines<Consumed>(
          await runDriver(driver, [
            "consume",
            "--bootstrap",
            bootstrap,
            "--topic",
            topic,
            "--count",
            String(COUNT),
          ]),
        );
        assertSameRecords(records, c.records, `${topic} after restart`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

for (const driver of DRIVERS) {
  Deno.test({
    name: `interop: ${driver.name} produces, consumes and lists offsets across a restart`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: (t) => roundTrip(driver, t),
  });
}
