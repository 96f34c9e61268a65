/**
 * Consumer groups with real clients, unmodified, over real TCP, per client
 * family: three members of one group on a 6-partition topic while a producer
 * writes 30,000 records in two halves; one member leaves after 4,000 records
 * and a new one joins before the second half. Every record must be consumed,
 * and none read again after the group committed past it (members commit what
 * they printed after each batch, CONTRACT.md "Group members"); at the end the
 * group's committed offsets reach the end of every partition.
 *
 * Then the same with two broker processes sharing one SQLite meta store and
 * one file log directory, members bootstrapped through different brokers
 * (each answers Metadata and FindCoordinator with its own address), and one
 * broker killed with SIGKILL just as the group rebalances: the group recovers
 * through the other broker and no committed offset is lost.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CONSUMER_GROUP_DESCRIBE_API,
  defaultConsumerGroupDescribeRequest,
  defaultDescribeGroupsRequest,
  defaultOffsetFetchRequest,
  DESCRIBE_GROUPS_API,
  OFFSET_FETCH_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type BrokerProcess, spawnBroker } from "./broker_util.ts";
import { type ClientDriver, DRIVERS, runDriver } from "./client_drivers.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic } from "./helpers.ts";

const HALF = 15_000;
const PARTITIONS = 6;
/** The member that leaves reads this many records first. */
const LEAVER_READS = 4_000;
/** Upper bound of any one wait in the scenario. */
const STEP_MS = Number(Deno.env.get("SKB_GROUPS_STEP_MS") ?? 120_000);

/** Set SKB_GROUPS_STDERR_DIR to keep every member's whole stderr there (for debugging clients). */
const STDERR_DIR = Deno.env.get("SKB_GROUPS_STDERR_DIR");
const STDERR_KEPT = STDERR_DIR ? 50_000_000 : 20_000;

/** A line a group member prints: a record (with the time it printed it) or a commit. */
type MemberLine =
  | (Consumed & { at: number })
  | { commit: [number, number][]; at: number }
  | { done: true; count: number };

/** A driver process whose JSON lines are read as they come. */
class Running {
  readonly lines: MemberLine[] = [];
  readonly exited: Promise<{ code: number; stderr: string }>;
  private readonly child: Deno.ChildProcess;
  private stderr = "";

  constructor(readonly name: string, driver: ClientDriver, args: string[]) {
    const child = new Deno.Command(driver.command[0], {
      args: [...driver.command.slice(1), ...args],
      stdout: "piped",
      stderr: "piped",
      cwd: new URL("../", import.meta.url).pathname,
    }).spawn();
    this.child = child;
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
        this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT);
      }
    })();
    this.exited = (async () => {
      const status = await child.status;
      await Promise.all([readOut, readErr]);
      return { code: status.code, stderr: this.stderr };
    })();
  }

  records(): (Consumed & { at: number })[] {
    return this.lines.filter((l) => "o" in l) as (Consumed & { at: number })[];
  }

  commits(): { commit: [number, number][]; at: number }[] {
    return this.lines.filter((l) => "commit" in l) as { commit: [number, number][]; at: number }[];
  }

  kill(): void {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited */ }
  }
}

/** Waits until `ok()` holds, polling; fails with `what` after `ms`. */
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The group's state, member count and assignor: DescribeGroups, or ConsumerGroupDescribe (KIP-848). */
async function describeGroup(port: number, group: string, consumerProtocol: boolean) {
  await using c = await WireClient.connect(port);
  if (consumerProtocol) {
    const res = await c.call(CONSUMER_GROUP_DESCRIBE_API, 1, {
      ...defaultConsumerGroupDescribeRequest(),
      groupIds: [group],
    });
    const g = res.groups[0];
    return { state: g.groupState, members: g.members.length, assignor: g.assignorName };
  }
  const res = await c.call(DESCRIBE_GROUPS_API, 5, {
    ...defaultDescribeGroupsRequest(),
    groups: [group],
  });
  const g = res.groups[0];
  return { state: g.groupState, members: g.members.length, assignor: g.protocolData };
}

async function committedOffsets(port: number, group: string, topic: string) {
  await using c = await WireClient.connect(port);
  const res = await c.call(OFFSET_FETCH_API, 7, {
    ...defaultOffsetFetchRequest(),
    groupId: group,
    topics: [{ name: topic, partitionIndexes: Array.from({ length: PARTITIONS }, (_, i) => i) }],
  });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return new Map(res.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset]));
}

/**
 * Records read again after the group had committed past them: for every
 * record read more than once, the later read must come before any commit
 * (by any member) beyond it. Returns the violations, and how many re-reads
 * were allowed (their first read was never committed).
 */
export function readsAfterCommit(members: Running[]): { violations: string[]; rereads: number } {
  const reads = new Map<string, { member: string; at: number }[]>();
  const commits = new Map<number, { next: number; at: number; member: string }[]>();
  for (const m of members) {
    for (const r of m.records()) {
      const k = `${r.p}/${r.o}`;
      let list = reads.get(k);
      if (!list) reads.set(k, list = []);
      list.push({ member: m.name, at: r.at });
    }
    for (const c of m.commits()) {
      for (const [p, next] of c.commit) {
        let list = commits.get(p);
        if (!list) commits.set(p, list = []);
        list.push({ next, at: c.at, member: m.name });
      }
    }
  }
  const violations: string[] = [];
  let rereads = 0;
  for (const [k, list] of reads) {
    if (list.length < 2) continue;
    rereads += list.length - 1;
    const [p, o] = k.split("/").map(Number);
    list.sort((a, b) => a.at - b.at);
    for (const again of list.slice(1)) {
      const past = (commits.get(p) ?? []).find((c) => c.next > o && c.at < again.at);
      if (past) {
        violations.push(
          `${k}: read by ${again.member} at ${again.at} after ${past.member} committed ${p}@${past.next} at ${past.at}`,
        );
      }
    }
  }
  return { violations, rereads };
}

interface Scenario {
  /** Extra arguments for every member (assignor, group protocol). */
  memberArgs: string[];
  /** The assignor the group must end up using, when the scenario names one. */
  assignor?: string;
  /**
   * Two broker processes on shared stores: "load-balanced" (each answers Metadata with only its
   * own address) or "addressable" (Metadata lists both, from the lease registry); null: one.
   */
  twoBrokers: Shape | null;
}

type Shape = "load-balanced" | "addressable";

async function groupScenario(driver: ClientDriver, label: string, s: Scenario) {
  await driver.check();
  const dir = await Deno.makeTempDir({ prefix: `skb-groups-${driver.name}-` });
  const common = ["--port", "0", "--log-level", "warning"];
  const brokers: BrokerProcess[] = [];
  const members: Running[] = [];
  const t0 = performance.now();
  const log = (msg: string) =>
    console.error(`  [${label}] ${((performance.now() - t0) / 1000).toFixed(1)} s: ${msg}`);
  try {
    if (s.twoBrokers) {
      const shared = [
        "--meta",
        `sqlite:${join(dir, "meta.db")}`,
        "--log",
        `file:${join(dir, "log")}`,
        // Info level: the group transitions each broker makes show in its output.
        "--log-level",
        "info",
        "--cluster-shape",
        s.twoBrokers,
        "--advertised-host",
        "127.0.0.1",
      ];
      brokers.push(await spawnBroker([...common, ...shared, "--node-id", "1"]));
      brokers.push(await spawnBroker([...common, ...shared, "--node-id", "2"]));
    } else {
      brokers.push(await spawnBroker([...common, "--data-dir", dir]));
    }
    const addr = (b: BrokerProcess) => `127.0.0.1:${b.port}`;
    const [a, b] = [brokers[0], brokers.at(-1)!];
    // Members reach the cluster through different brokers (in the single-broker run, the same).
    const bootstraps = [`${addr(a)},${addr(b)}`, `${addr(b)},${addr(a)}`];
    const topic = `${label}-t`;
    const group = `${label}-g`;
    const stopFile = join(dir, "stop");
    {
      await using setup = await WireClient.connect(a.port);
      await createTopic(setup, topic, PARTITIONS);
    }

    const member = (name: string, count: number, bootstrap: string) => {
      const m = new Running(name, driver, [
        "consume",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--count",
        String(count),
        "--stop-file",
        stopFile,
        "--timeout-ms",
        "240000",
        ...s.memberArgs,
      ]);
      members.push(m);
      return m;
    };
    const produce = async (start: number, bootstrap: string) =>
      parseLines<Produced>(
        await runDriver(driver, [
          "produce",
          "--bootstrap",
          bootstrap,
          "--topic",
          topic,
          "--count",
          String(HALF),
          "--start",
          String(start),
        ], STEP_MS),
      ).records;
    const distinct = () => new Set(members.flatMap((m) => m.records().map((r) => `${r.p}/${r.o}`)));

    const consumerProtocol = s.memberArgs.includes("consumer");
    let state = "";
    /** Until the group is Stable with three members using the expected assignor. */
    const stableWithThree = (port: number) =>
      until("the group to be Stable with three members", async () => {
        const g = await describeGroup(port, group, consumerProtocol);
        const now = `${g.state} with ${g.members} members (${g.assignor || "-"})`;
        if (now !== state) log(state = now);
        if (g.state !== "Stable" || g.members !== 3) return false;
        if (s.assignor) assert.equal(g.assignor, s.assignor, "the assignor the members asked for");
        return true;
      });

    const leaver = member("leaver", LEAVER_READS, bootstraps[0]);
    member("m2", 1_000_000, bootstraps[1]);
    member("m3", 1_000_000, bootstraps[0]);
    // All three share the partitions before the records come (a KIP-848 group has no
    // initial rebalance delay: its first member would take everything).
    await stableWithThree(a.port);
    const firstHalf = await produce(0, addr(a));
    assert.equal(firstHalf.length, HALF);
    log(`produced ${HALF}; the group has read ${distinct().size}`);
    await until("the leaver to read its records and exit", async () => {
      const r = await Promise.race([leaver.exited, new Promise((r) => setTimeout(r, 0, null))]);
      return r !== null;
    });
    const leaverExit = await leaver.exited;
    assert.equal(leaverExit.code, 0, `leaver: ${leaverExit.stderr}`);
    assert.equal(leaver.records().length, LEAVER_READS);
    log(`leaver left after ${LEAVER_READS} records`);

    let live = a;
    if (s.twoBrokers) {
      // Mid-rebalance (the group is settling the leaver's departure and a joiner arrives), kill
      // a broker that has been changing the group: its log shows the transitions it made.
      const victim = brokers.find((x) => x.output().includes(group));
      assert.ok(victim, "one of the brokers coordinated the group");
      live = victim === a ? b : a;
      await victim.stop("SIGKILL");
      log(`killed broker ${addr(victim)} (SIGKILL), carrying on through ${addr(live)}`);
    }
    const joinedAt = performance.now();
    const joiner = member("joiner", 1_000_000, bootstraps[1]);
    await stableWithThree(live.port);
    const rebalanceMs = performance.now() - joinedAt;
    log(`joiner in: Stable with 3 members ${rebalanceMs.toFixed(0)} ms after it started`);

    const secondHalf = await produce(HALF, addr(live));
    assert.equal(secondHalf.length, HALF);
    const produced = [...firstHalf, ...secondHalf];
    await until("every record to be consumed", () => distinct().size >= produced.length);
    log(`all ${produced.length} records consumed`);
    await Deno.writeTextFile(stopFile, "stop");
    for (const m of members) {
      const r = await m.exited;
      assert.equal(r.code, 0, `${m.name} exited ${r.code}: ${r.stderr}`);
    }
    assert.ok(joiner.records().length > 0, "the joiner got partitions and read records");

    // Every record, byte for byte (each once after removing allowed re-reads).
    const seen = new Map<string, Consumed>();
    for (const m of members) for (const r of m.records()) seen.set(`${r.p}/${r.o}`, r);
    assertSameRecords(produced, [...seen.values()], label);
    const { violations, rereads } = readsAfterCommit(members);
    assert.deepEqual(violations.slice(0, 10), [], `${violations.length} records read after commit`);
    // The group's committed offsets reach the end of every partition.
    const ends = new Map<number, number>();
    for (const p of produced) ends.set(p.p, Math.max(ends.get(p.p) ?? 0, p.o + 1));
    const committed = await committedOffsets(live.port, group, topic);
    for (const [p, end] of ends) {
      assert.equal(committed.get(p), end, `${label}: committed offset of partition ${p}`);
    }
    if (Deno.env.get("SKB_GROUPS_DEBUG")) {
      for (const m of members) console.error(`--- ${m.name} stderr:\n${(await m.exited).stderr}`);
    }
    log(
      `ok: ${members.map((m) => `${m.name} ${m.records().length}`).join(", ")}; ${rereads} ` +
        `uncommitted re-reads; rebalance ${rebalanceMs.toFixed(0)} ms`,
    );
  } catch (e) {
    // What the clients said, for the failure report.
    for (const m of members) m.kill();
    for (const m of members) {
      const r = await m.exited;
      if (STDERR_DIR) {
        await Deno.writeTextFile(join(STDERR_DIR, `${label}-${m.name}.stderr`), r.stderr);
      }
      console.error(
        `--- ${m.name} (${m.records().length} records) stderr:\n${r.stderr.slice(-3000)}`,
      );
    }
    throw e;
  } finally {
    for (const m of members) m.kill();
    await Promise.allSettled(members.map((m) => m.exited));
    for (const b of brokers) await b.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Which families run which scenarios: name, member arguments, and the two-broker run it also
 * gets, if any (one per client family and protocol, to keep the file within a few minutes).
 *
 * @platformatic/kafka 2.12 has no two-broker run: when the only broker it knows dies (each
 * broker names only itself in the load-balanced shape) it keeps retrying that address, and a
 * member whose JoinGroup was parked there waits out its request timeout first, so it is not
 * back within minutes; in the addressable shape its fetch stream fails instead, on partitions
 * the dead broker still leads until its lease runs out. Both are the client's doing: the group
 * itself recovers at once through the other broker (the other families show it).
 *
 * franz-go's consumer-protocol group passes the two-broker run too; it is left out for time (a
 * KIP-848 run waits out a few 5 s heartbeat intervals).
 */
const VARIANTS: Record<string, [string, string[], Shape | null][]> = {
  java: [
    ["classic-eager", ["--assignor", "range"], null],
    ["classic-cooperative", ["--assignor", "cooperative-sticky"], "load-balanced"],
    ["consumer-protocol", ["--group-protocol", "consumer"], "load-balanced"],
  ],
  librdkafka: [
    ["eager", ["--assignor", "range"], "load-balanced"],
    ["cooperative", ["--assignor", "cooperative-sticky"], null],
    ["consumer-protocol", ["--group-protocol", "consumer", "--assignor", "range"], "load-balanced"],
  ],
  kafkajs: [["eager", [], "load-balanced"]],
  platformatic: [
    ["eager", [], null],
    ["consumer-protocol", ["--group-protocol", "consumer"], null],
  ],
  franzgo: [
    ["cooperative", ["--assignor", "cooperative-sticky"], "load-balanced"],
    ["consumer-protocol", ["--group-protocol", "consumer", "--assignor", "uniform"], null],
  ],
};

for (const driver of DRIVERS) {
  for (const [variant, memberArgs, shape] of VARIANTS[driver.name] ?? []) {
    for (const twoBrokers of shape === null ? [null] : [null, shape]) {
      const label = `${driver.name}-${variant}${twoBrokers ? "-2b" : ""}`;
      Deno.test({
        name: twoBrokers
          ? `groups interop: ${driver.name} ${variant} group survives a broker killed mid-rebalance (${twoBrokers})`
          : `groups interop: ${driver.name} ${variant} group rebalances and resumes from commits`,
        sanitizeResources: false,
        sanitizeOps: false,
        fn: () => {
          const at = memberArgs.indexOf("--assignor");
          const assignor = at >= 0 ? memberArgs[at + 1] : undefined;
          return groupScenario(driver, label, { memberArgs, twoBrokers, assignor });
        },
      });
    }
  }
}

Deno.test({
  name: "groups interop: the Java AdminClient lists, describes, alters and deletes groups",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const java = DRIVERS.find((d) => d.name === "java")!;
    await java.check();
    const dir = await Deno.makeTempDir({ prefix: "skb-groups-admin-" });
    let member: Running | null = null;
    try {
      await using broker = await spawnBroker([
        "--port",
        "0",
        "--log-level",
        "warning",
        "--data-dir",
        dir,
      ]);
      const bootstrap = `127.0.0.1:${broker.port}`;
      const [topic, group] = ["admin-t", "admin-g"];
      {
        await using setup = await WireClient.connect(broker.port);
        await createTopic(setup, topic, PARTITIONS);
      }
      const produced = parseLines<Produced>(
        await runDriver(java, [
          "produce",
          "--bootstrap",
          bootstrap,
          "--topic",
          topic,
          "--count",
          "600",
        ]),
      ).records;
      const admin = async (...args: string[]) =>
        parseLines<Record<string, unknown>>(
          await runDriver(java, ["admin", "--bootstrap", bootstrap, "--group", group, ...args]),
        ).records;
      const stopFile = join(dir, "stop");
      member = new Running("member", java, [
        "consume",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--count",
        "1000000",
        "--stop-file",
        stopFile,
        "--timeout-ms",
        "120000",
      ]);
      await until("the member to read everything", () => member!.records().length >= 600);

      const [described] = await admin("--action", "describe");
      assert.equal(described.state, "Stable");
      assert.equal(described.type, "Classic");
      assert.equal(described.assignor, "range");
      assert.equal(described.coordinator, broker.port);
      const members = described.members as { partitions: number[]; host: string }[];
      assert.equal(members.length, 1);
      assert.deepEqual(members[0].partitions, [0, 1, 2, 3, 4, 5]);
      assert.equal(members[0].host, "/127.0.0.1");
      const listed = await admin("--action", "list");
      assert.deepEqual(
        listed.filter((g) => g.group === group).map((g) => [g.state, g.type, g.protocol]),
        [["Stable", "Classic", "consumer"]],
      );
      assert.deepEqual(await admin("--action", "delete"), [
        { deleted: false, error: "GroupNotEmptyException" },
      ]);

      await Deno.writeTextFile(stopFile, "stop");
      assert.equal((await member.exited).code, 0);
      const ends = new Map<number, number>();
      for (const p of produced) ends.set(p.p, Math.max(ends.get(p.p) ?? 0, p.o + 1));
      const offsets = await admin("--action", "offsets");
      assert.deepEqual(
        offsets.map((o) => [o.p, o.offset]),
        [...ends].sort((a, b) => a[0] - b[0]),
        "listConsumerGroupOffsets: the member committed everything it read",
      );
      assert.deepEqual(
        await admin("--action", "alter", "--topic", topic, "--partition", "0", "--offset", "1"),
        [
          { altered: true },
        ],
      );
      const altered = await admin("--action", "offsets");
      assert.deepEqual(altered[0], { topic, p: 0, offset: 1, metadata: "reset by admin" });
      const [empty] = await admin("--action", "describe");
      assert.equal(empty.state, "Empty");
      assert.deepEqual(await admin("--action", "delete"), [{ deleted: true }]);
      assert.deepEqual((await admin("--action", "list")).filter((g) => g.group === group), []);
      assert.deepEqual(await admin("--action", "offsets"), [], "the group's offsets went with it");
    } finally {
      member?.kill();
      await member?.exited;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
