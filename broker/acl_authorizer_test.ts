import assert from "node:assert/strict";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { DEFAULT_SECURITY_CONFIG } from "./security_config.ts";
import { AclAuthorizer } from "./acl_authorizer.ts";
import { AclOperation as Op, ResourceType as RT } from "./authorizer.ts";
import {
  type AclBinding,
  type AclFilter,
  AclPermission as Perm,
  invalidBinding,
  PatternType as PT,
} from "./acl.ts";

const alice = { principal: "User:alice", host: "127.0.0.1" };
const bob = { principal: "User:bob", host: "127.0.0.1" };

function acl(p: Partial<AclBinding>): AclBinding {
  return {
    resourceType: RT.TOPIC,
    patternType: PT.LITERAL,
    resourceName: "t",
    principal: "User:alice",
    host: "*",
    operation: Op.READ,
    permission: Perm.ALLOW,
    ...p,
  };
}

const ANY_FILTER: AclFilter = {
  resourceType: RT.ANY,
  patternType: PT.ANY,
  resourceName: null,
  principal: null,
  host: null,
  operation: Op.ANY,
  permission: Perm.ANY,
};

async function authorizer(acls: AclBinding[], security = {}) {
  const a = new AclAuthorizer(new MemoryMetaStore(), { ...DEFAULT_SECURITY_CONFIG, ...security });
  await a.acls.create(acls);
  return a;
}

Deno.test("ACL authorizer: an ALLOW allows its operation and the ones it implies only", async () => {
  const a = await authorizer([acl({}), acl({ operation: Op.ALTER_CONFIGS, resourceName: "c" })]);
  assert(a.authorize(alice, Op.READ, RT.TOPIC, "t"));
  assert(a.authorize(alice, Op.DESCRIBE, RT.TOPIC, "t"), "READ implies DESCRIBE");
  assert(!a.authorize(alice, Op.WRITE, RT.TOPIC, "t"));
  assert(!a.authorize(bob, Op.READ, RT.TOPIC, "t"), "the ACL names alice");
  assert(a.authorize(alice, Op.DESCRIBE_CONFIGS, RT.TOPIC, "c"), "ALTER_CONFIGS implies it");
  assert(!a.authorize(alice, Op.DESCRIBE, RT.TOPIC, "c"));
  assert(!a.authorize(alice, Op.READ, RT.TOPIC, "other"), "no ACL: denied by default");
  assert(!a.authorize(alice, Op.READ, RT.GROUP, "t"), "another resource type");
});

Deno.test("ACL authorizer: a DENY beats any ALLOW, and denies only its own operation", async () => {
  const a = await authorizer([
    acl({ operation: Op.ALL }),
    acl({ principal: "User:*", permission: Perm.DENY, operation: Op.WRITE }),
  ]);
  assert(a.authorize(alice, Op.READ, RT.TOPIC, "t"));
  assert(!a.authorize(alice, Op.WRITE, RT.TOPIC, "t"));
  assert(a.authorize(alice, Op.DESCRIBE, RT.TOPIC, "t"), "a WRITE deny does not deny DESCRIBE");
});

Deno.test("ACL authorizer: wildcards, prefixes, hosts, super users, no-ACL default", async () => {
  const a = await authorizer([
    acl({ resourceName: "*", principal: "User:*", operation: Op.DESCRIBE }),
    acl({ patternType: PT.PREFIXED, resourceName: "orders-", operation: Op.WRITE }),
    acl({ resourceName: "h", host: "10.0.0.1" }),
    acl({ resourceType: RT.GROUP, resourceName: "g", principal: "User:bob" }),
  ], { superUsers: ["User:admin"] });
  assert(a.authorize(bob, Op.DESCRIBE, RT.TOPIC, "anything"));
  assert(a.authorize(alice, Op.WRITE, RT.TOPIC, "orders-eu"));
  assert(!a.authorize(alice, Op.WRITE, RT.TOPIC, "orders"), "shorter than the prefix");
  assert(!a.authorize(bob, Op.WRITE, RT.TOPIC, "orders-eu"));
  assert(!a.authorize(alice, Op.READ, RT.TOPIC, "h"), "another host");
  assert(a.authorize({ ...alice, host: "10.0.0.1" }, Op.READ, RT.TOPIC, "h"));
  assert(
    a.authorize({ principal: "User:admin", host: "::1" }, Op.ALTER, RT.CLUSTER, "kafka-cluster"),
  );
  assert(!a.authorize(alice, Op.READ, RT.GROUP, "x"), "no ACL on the group: denied");

  const open = await authorizer([acl({ resourceType: RT.GROUP, resourceName: "g" })], {
    allowEveryoneIfNoAclFound: true,
  });
  assert(open.authorize(bob, Op.READ, RT.GROUP, "other"), "no ACL at all: open");
  assert(!open.authorize(bob, Op.READ, RT.GROUP, "g"), "an ACL for someone else closes it");
});

Deno.test("ACL authorizer: authorizeAny follows KIP-679's dominance rules", async () => {
  const a = await authorizer([
    acl({ resourceName: "t", operation: Op.WRITE }),
    acl({ patternType: PT.PREFIXED, resourceName: "", operation: Op.READ }),
  ]);
  assert(a.authorizeAny(alice, Op.WRITE, RT.TOPIC));
  assert(!a.authorizeAny(bob, Op.WRITE, RT.TOPIC));
  const denied = await authorizer([
    acl({ resourceName: "t-1", operation: Op.WRITE }),
    acl({
      patternType: PT.PREFIXED,
      resourceName: "t-",
      operation: Op.WRITE,
      permission: Perm.DENY,
    }),
  ]);
  assert(
    !denied.authorizeAny(alice, Op.WRITE, RT.TOPIC),
    "the allow is dominated by a prefix deny",
  );
  const wild = await authorizer([acl({ resourceName: "*", operation: Op.WRITE })]);
  assert(wild.authorizeAny(alice, Op.WRITE, RT.TOPIC));
});

Deno.test("ACLs: describe and delete with ANY and MATCH filters, as Kafka matches them", async () => {
  const a = await authorizer([
    acl({ resourceName: "orders-1" }),
    acl({ resourceName: "*" }),
    acl({ patternType: PT.PREFIXED, resourceName: "orders-" }),
    acl({ patternType: PT.PREFIXED, resourceName: "x" }),
  ]);
  const match = await a.acls.describe({
    ...ANY_FILTER,
    patternType: PT.MATCH,
    resourceName: "orders-1",
  });
  assert.deepEqual(match.map((b) => `${b.patternType}:${b.resourceName}`).sort(), [
    "3:*",
    "3:orders-1",
    "4:orders-",
  ]);
  const any = await a.acls.describe({ ...ANY_FILTER, resourceName: "orders-" });
  assert.deepEqual(any.map((b) => b.patternType), [PT.PREFIXED]);
  assert.deepEqual((await a.acls.describe(ANY_FILTER)).length, 4);
  const [removed] = await a.acls.delete([{ ...ANY_FILTER, patternType: PT.PREFIXED }]);
  assert.deepEqual(removed.map((b) => b.resourceName).sort(), ["orders-", "x"]);
  assert.deepEqual((await a.acls.describe(ANY_FILTER)).length, 2);
  assert(a.authorize(alice, Op.READ, RT.TOPIC, "x1"), "the literal * still allows");
  await a.acls.delete([{ ...ANY_FILTER, resourceName: "*" }]);
  assert(!a.authorize(alice, Op.READ, RT.TOPIC, "x1"), "deleted: in force at once");
});

Deno.test("ACLs: two authorizers on one meta store agree after a refresh", async () => {
  const meta = new MemoryMetaStore();
  const one = new AclAuthorizer(meta, DEFAULT_SECURITY_CONFIG);
  const two = new AclAuthorizer(meta, DEFAULT_SECURITY_CONFIG);
  await two.refresh();
  assert(!two.authorize(alice, Op.READ, RT.TOPIC, "t"));
  await one.acls.create([acl({})]);
  assert(!two.authorize(alice, Op.READ, RT.TOPIC, "t"), "not read yet");
  await two.refresh();
  assert(two.authorize(alice, Op.READ, RT.TOPIC, "t"));
});

Deno.test("CreateAcls validation: Kafka's INVALID_REQUEST messages", () => {
  assert.deepEqual(invalidBinding(acl({})), null);
  assert.deepEqual(
    invalidBinding(acl({ resourceType: RT.CLUSTER, resourceName: "c" })),
    "The only valid name for the CLUSTER resource is kafka-cluster",
  );
  assert.deepEqual(invalidBinding(acl({ resourceName: "" })), "Invalid empty resource name");
  assert.deepEqual(invalidBinding(acl({ resourceType: RT.ANY })), "Invalid resourceType ANY");
  assert.deepEqual(invalidBinding(acl({ patternType: PT.MATCH })), "Invalid patternType MATCH");
  assert.deepEqual(invalidBinding(acl({ operation: Op.ANY })), "Invalid operation ANY");
  assert.deepEqual(invalidBinding(acl({ permission: Perm.ANY })), "Invalid permissionType ANY");
  assert(invalidBinding(acl({ principal: "alice" }))?.startsWith("Could not parse principal"));
});
