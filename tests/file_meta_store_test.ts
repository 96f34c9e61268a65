/** A `file:` meta store serves one broker process: a second one on the same directory exits. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DENO, ROOT, spawnBroker } from "./broker_util.ts";

Deno.test("broker: a second process on the same file: meta directory exits with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "skb-filemeta-broker-" });
  const meta = join(dir, "meta");
  const args = (log: string) => ["--meta", `file:${meta}`, "--log", `file:${log}`, "--port", "0"];
  try {
    await using first = await spawnBroker(args(join(dir, "log")));
    const main = new URL("main.ts", ROOT).pathname;
    const second = await new Deno.Command(DENO, {
      args: ["run", "-A", main, "--host", "127.0.0.1", ...args(join(dir, "log2"))],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(second.stderr);
    assert.notEqual(second.code, 0, stderr);
    assert.ok(stderr.includes(`another process (pid ${first.child.pid}) holds its lock`), stderr);
    assert.ok(stderr.includes(JSON.stringify(meta)), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
