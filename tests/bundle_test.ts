/**
 * The program is ready for `deno compile`: bundled into one file (npm
 * packages inlined, only `node:` built-ins left outside), it starts from an
 * empty DENO_DIR with no config, no lock file, no remote or npm modules and
 * network access to 127.0.0.1 only, and serves a real client (librdkafka) a
 * produce/consume round trip; `/metrics` counts it. Where DENORT_BIN points at
 * Deno's runtime (or SKB_TEST_EXECUTABLE at a built executable), the same
 * round trip runs against the compiled executable.
 */

import assert from "node:assert/strict";
import { DENO, spawnBrokerCommand, type SpawnOptions } from "./broker_util.ts";
import { DRIVERS, runDriver } from "./client_drivers.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";
import { parsePrometheus } from "./prometheus.ts";
import {
  bundleImports,
  bundleProgram,
  compileExecutable,
  executableName,
  hostTarget,
} from "../tools/compile.ts";
import denoJson from "../deno.json" with { type: "json" };

const COUNT = 2000;
const REVISION = "bundle-test-0123abc";
const librdkafka = DRIVERS.find((d) => d.name === "librdkafka")!;

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Starts the program, runs a real client's round trip against it, checks /metrics, stops it. */
async function roundTrip(
  t: Deno.TestContext,
  command: string,
  args: string[],
  opts: SpawnOptions & { dir: string; revision?: string },
) {
  const broker = await spawnBrokerCommand(command, [
    ...args,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--http-port",
    "0",
    "--data-dir",
    `${opts.dir}/data`,
    "--shutdown-timeout",
    "5000",
  ], opts);
  try {
    const bootstrap = `127.0.0.1:${broker.port}`;
    await t.step(`librdkafka produces ${COUNT} records and consumes them back`, async () => {
      const p = parseLines<Produced>(
        await runDriver(librdkafka, [
          "produce",
          "--bootstrap",
          bootstrap,
          "--topic",
          "bundle",
          "--count",
          String(COUNT),
          "--compression",
          "zstd",
          "--create-partitions",
          "2",
        ], 60_000),
      );
      assert.equal(p.records.length, COUNT);
      const c = parseLines<Consumed>(
        await runDriver(librdkafka, [
          "consume",
          "--bootstrap",
          bootstrap,
          "--topic",
          "bundle",
          "--count",
          String(COUNT),
          "--timeout-ms",
          "30000",
        ], 60_000),
      );
      assertSameRecords(p.records, c.records, "bundle");
    });

    await t.step(
      "/metrics parses and counts the round trip; /healthz and /readyz are ok",
      async () => {
        const m = await get(broker.httpPort!, "/metrics");
        assert.equal(m.status, 200);
        const x = parsePrometheus(m.body);
        assert.equal(x.get("skb_records_produced_total"), COUNT);
        assert.ok(x.get("skb_records_fetched_total")! >= COUNT);
        assert.ok(x.sum("skb_requests_total", { api: "Produce" }) >= 1);
        assert.ok(x.sum("skb_requests_total", { api: "Fetch" }) >= 1);
        assert.equal(x.sum("skb_request_errors_total"), 0);
        assert.ok(x.get("skb_bytes_in_total")! > 0 && x.get("skb_bytes_out_total")! > 0);
        assert.ok(x.get("skb_flush_bytes_count")! >= 1);
        const build = {
          version: denoJson.version,
          ...(opts.revision ? { revision: opts.revision } : {}),
        };
        assert.equal(x.sum("skb_build_info", build), 1, JSON.stringify(build));
        assert.equal((await get(broker.httpPort!, "/healthz")).status, 200);
        const ready = await get(broker.httpPort!, "/readyz");
        assert.equal(ready.status, 200, ready.body);
      },
    );

    await t.step("SIGTERM stops it cleanly", async () => {
      const status = await broker.stop("SIGTERM");
      assert.equal(status.code, 0, broker.output());
    });
  } finally {
    await broker[Symbol.asyncDispose]();
  }
}

Deno.test("the bundle runs from an empty cache with no registry access and serves librdkafka", async (t) => {
  await librdkafka.check();
  const dir = await Deno.makeTempDir({ prefix: "skb-bundle-" });
  try {
    const bundle = `${dir}/skb.js`;
    await t.step("deno bundle inlines every npm package", async () => {
      await bundleProgram(bundle, REVISION);
      const text = await Deno.readTextFile(bundle);
      const imports = bundleImports(text);
      assert.ok(imports.includes("node:sqlite"), imports.join(" "));
      for (const s of imports) assert.match(s, /^node:/, `bundle imports ${s}`);
    });

    // A fresh DENO_DIR and HOME, no config or lock file, and no way to fetch a module.
    const denoDir = `${dir}/deno_dir`;
    const opts = {
      dir,
      cwd: dir,
      clearEnv: true,
      env: {
        DENO_DIR: denoDir,
        HOME: dir,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        DENO_NO_UPDATE_CHECK: "1",
        NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
      },
    };
    const isolated = [
      "run",
      "--cached-only",
      "--no-remote",
      "--no-npm",
      "--no-config",
      "--no-lock",
      "--allow-net=127.0.0.1",
      "--allow-env",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      bundle,
    ];

    await t.step("--version names the version, Deno and the revision", async () => {
      const out = await new Deno.Command(DENO, {
        args: [...isolated, "--version"],
        ...opts,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        `stateless-kafka-broker ${denoJson.version} (deno ${Deno.version.deno}, revision ${REVISION})`,
      );
    });

    await roundTrip(t, DENO, isolated, { ...opts, revision: REVISION });

    await t.step("nothing was downloaded into the empty DENO_DIR", async () => {
      for await (const e of Deno.readDir(denoDir)) {
        assert.ok(!["remote", "deps", "gen"].includes(e.name) || !e.isDirectory, e.name);
        if (e.name === "npm") {
          const inside = [];
          for await (const f of Deno.readDir(`${denoDir}/npm`)) inside.push(f.name);
          assert.deepEqual(inside, [], "npm packages were fetched");
        }
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const prebuilt = Deno.env.get("SKB_TEST_EXECUTABLE");
Deno.test({
  name: "the compiled executable serves librdkafka (needs DENORT_BIN or SKB_TEST_EXECUTABLE)",
  ignore: !prebuilt && !Deno.env.get("DENORT_BIN"),
  async fn(t) {
    await librdkafka.check();
    const dir = await Deno.makeTempDir({ prefix: "skb-exe-" });
    try {
      let exe = prebuilt ?? "";
      if (!prebuilt) {
        exe = `${dir}/${executableName(hostTarget())}`;
        await t.step("deno compile with the runtime in DENORT_BIN", async () => {
          await bundleProgram(`${dir}/skb.js`, REVISION);
          await compileExecutable(`${dir}/skb.js`, hostTarget(), exe);
        });
      }
      const version = await new Deno.Command(exe, { args: ["--version"], stdout: "piped" })
        .output();
      assert.match(
        new TextDecoder().decode(version.stdout),
        new RegExp(`^stateless-kafka-broker ${denoJson.version} \\(deno \\S+, revision \\S+\\)`),
      );
      await roundTrip(t, exe, [], {
        dir,
        revision: prebuilt ? undefined : REVISION,
        cwd: dir,
        clearEnv: true,
        env: { HOME: dir, PATH: "/usr/bin:/bin" },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
