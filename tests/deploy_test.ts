/**
 * The deployment files agree with the program: the Dockerfile's Deno is the
 * pinned one, every SKB_* variable they set is one main.ts reads, the ports
 * line up (Kafka service, health checks and metrics on the HTTP port), Fly
 * waits longer than the shutdown deadline and mounts no volume, and the image
 * runs as a non-root user. Docker and flyctl cannot run here; this is what
 * can be checked without them.
 */

import assert from "node:assert/strict";
import { DENO, ROOT } from "./broker_util.ts";
import pin from "../tools/deno/package.json" with { type: "json" };

const read = (p: string) => Deno.readTextFile(new URL(p, ROOT));

/** The environment variables main.ts reads, from its --help. */
async function knownEnv(): Promise<Set<string>> {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", new URL("main.ts", ROOT).pathname, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new Set([...new TextDecoder().decode(out.stdout).matchAll(/\[(SKB_[A-Z_]+)\]/g)].map(
    (m) => m[1],
  ));
}

/** fly.toml as JSON, through Python's standard TOML parser. */
async function flyToml(): Promise<Record<string, unknown>> {
  const out = await new Deno.Command("python3", {
    args: [
      "-c",
      "import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))))",
      new URL("fly.toml", ROOT).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("Dockerfile, fly.toml and the release workflow agree with the program", async (t) => {
  const env = await knownEnv();
  assert.ok(env.has("SKB_HTTP_PORT") && env.has("SKB_META"), [...env].join(" "));
  const dockerfile = await read("Dockerfile");
  const fly = await flyToml() as {
    env: Record<string, string>;
    kill_timeout: string;
    services: {
      internal_port: number;
      protocol: string;
      ports: { port: number; handlers?: string[] }[];
    }[];
    checks: Record<string, { type: string; port: number; path: string }>;
    metrics: { port: number; path: string };
    mounts?: unknown;
  };

  await t.step(
    "the Dockerfile builds with the pinned Deno and runs the executable as non-root",
    () => {
      assert.match(dockerfile, new RegExp(`^ARG DENO_VERSION=${pin.dependencies.deno}$`, "m"));
      const stages = dockerfile.split(/^FROM /m);
      const final = stages[stages.length - 1];
      assert.match(final, /^USER nonroot/m);
      assert.match(final, /^COPY --from=build \/out\/skb \/usr\/local\/bin\/skb$/m);
      assert.match(final, /^ENTRYPOINT \["\/usr\/local\/bin\/skb"\]$/m);
      assert.match(dockerfile, /deno task compile --target host/);
    },
  );

  await t.step("every SKB_* variable they set is one main.ts reads", () => {
    const set = [
      ...[...dockerfile.matchAll(/\b(SKB_[A-Z_]+)=/g)].map((m) => m[1]),
      ...Object.keys(fly.env),
    ];
    for (const name of set) assert.ok(env.has(name), `${name} is not read by main.ts`);
  });

  await t.step("ports line up: Kafka on 9092, checks and metrics on the HTTP port", () => {
    const kafka = Number(fly.env.SKB_PORT);
    const http = Number(fly.env.SKB_HTTP_PORT);
    assert.equal(kafka, 9092);
    assert.match(dockerfile, new RegExp(`SKB_PORT=${kafka}\\b`));
    assert.match(dockerfile, new RegExp(`SKB_HTTP_PORT=${http}\\b`));
    assert.match(dockerfile, new RegExp(`^EXPOSE ${kafka} ${http}$`, "m"));
    assert.equal(fly.services.length, 1);
    assert.equal(fly.services[0].protocol, "tcp");
    assert.equal(fly.services[0].internal_port, kafka);
    // Clients reach the SASL listener through Fly's TLS handler, as advertised.
    assert.equal(fly.env.SKB_LISTENERS, `SASL_PLAINTEXT://0.0.0.0:${kafka}`);
    const advertised = /^SASL_PLAINTEXT:\/\/[a-z0-9.-]+:(\d+)$/.exec(
      fly.env.SKB_ADVERTISED_LISTENERS,
    );
    assert.ok(advertised, fly.env.SKB_ADVERTISED_LISTENERS);
    assert.deepEqual(fly.services[0].ports, [{ port: Number(advertised[1]), handlers: ["tls"] }]);
    assert.equal(fly.env.SKB_AUTHORIZER, "acl");
    const checks = Object.values(fly.checks);
    assert.deepEqual(checks.map((c) => [c.type, c.port]), checks.map(() => ["http", http]));
    assert.deepEqual(checks.map((c) => c.path).sort(), ["/healthz", "/readyz"]);
    assert.deepEqual(fly.metrics, { port: http, path: "/metrics" });
  });

  await t.step("Fly waits past the shutdown deadline and mounts no volume", () => {
    assert.equal(fly.mounts, undefined);
    const kill = /^(\d+)s$/.exec(fly.kill_timeout);
    assert.ok(kill, fly.kill_timeout);
    assert.ok(Number(kill[1]) * 1000 > Number(fly.env.SKB_SHUTDOWN_TIMEOUT));
    assert.ok(!("SKB_META" in fly.env) && !("SKB_LOG" in fly.env), "store URLs are secrets");
  });

  await t.step("the release workflow builds on tags, checks sums and uploads them", async () => {
    const wf = await read(".github/workflows/release.yml");
    assert.match(wf, /tags: \["v\*"\]/);
    assert.match(wf, /deno task compile --revision "\$GITHUB_SHA"/);
    assert.match(wf, /sha256sum -c SHA256SUMS/);
    assert.match(wf, /dist\/skb-\$\(jq -r \.version deno\.json\)-x86_64-unknown-linux-gnu/);
    assert.match(wf, /SKB_TEST_EXECUTABLE=/);
    assert.match(wf, /dist\/SHA256SUMS/);
  });
});
