import assert from "node:assert/strict";
import { MemoryMetaStore } from "../../stores/meta/memory.ts";
import { ensureSaslUsers, START_ITERATIONS } from "./users.ts";
import { SCRAM_ENTITY_TYPE } from "./credentials.ts";
import { loadUsers } from "./credentials.ts";
import { passwordMatches } from "./scram_crypto.ts";

Deno.test("--sasl-users: both SCRAM credentials made, kept while the password matches, replaced when it changes", async () => {
  const meta = new MemoryMetaStore();
  await ensureSaslUsers(meta, [{ name: "alice", password: "one" }]);
  const [first] = await meta.entityConfigs(SCRAM_ENTITY_TYPE, ["alice"]);
  assert.deepEqual(Object.keys(first.configs).sort(), ["SCRAM-SHA-256", "SCRAM-SHA-512"]);
  for (const v of Object.values(first.configs)) {
    assert.match(
      v,
      new RegExp(`^salt=[^,]+,stored_key=[^,]+,server_key=[^,]+,iterations=${START_ITERATIONS}$`),
    );
    assert.ok(!v.includes("one"));
  }
  // The same password again (another broker starting): nothing is rewritten.
  await ensureSaslUsers(meta, [{ name: "alice", password: "one" }]);
  const [same] = await meta.entityConfigs(SCRAM_ENTITY_TYPE, ["alice"]);
  assert.equal(same.version, first.version);
  assert.deepEqual(same.configs, first.configs);
  await ensureSaslUsers(meta, [{ name: "alice", password: "two" }]);
  const creds = (await loadUsers(meta, ["alice"])).get("alice")!;
  for (const [m, c] of creds) {
    assert.ok(await passwordMatches(m, c, "two"));
    assert.ok(!(await passwordMatches(m, c, "one")));
  }
  await assert.rejects(ensureSaslUsers(meta, [{ name: "", password: "x" }]), /empty name/);
});
