/**
 * ACLs kept in the meta store, so that every broker sharing it enforces the
 * same ones (Kafka keeps them in the cluster metadata log). They are entity
 * configs of the entity type {@link ACL_ENTITY}: one entity per resource
 * pattern, named `type:patternType:name` (codes, the name last so it may hold
 * colons), with one key per entry: the JSON of [principal, host, operation,
 * permission]. Each change is one atomic alterEntityConfigs of one pattern,
 * so concurrent brokers never lose each other's ACLs.
 */

import type { MetaStore } from "../stores/types.ts";
import { type AclBinding, type AclFilter, filterMatches } from "./acl.ts";

export const ACL_ENTITY = "acls";

/** The entity name of a binding's resource pattern. */
export function patternKey(b: Pick<AclBinding, "resourceType" | "patternType" | "resourceName">) {
  return `${b.resourceType}:${b.patternType}:${b.resourceName}`;
}

/** The config key of a binding's entry. */
export function entryKey(b: AclBinding): string {
  return JSON.stringify([b.principal, b.host, b.operation, b.permission]);
}

/** Parses one stored entity back into bindings; entries that do not parse are skipped. */
export function bindingsOf(entity: string, keys: Iterable<string>): AclBinding[] {
  const m = /^(\d+):(\d+):(.*)$/s.exec(entity);
  if (!m) return [];
  const out: AclBinding[] = [];
  for (const key of keys) {
    let e: unknown;
    try {
      e = JSON.parse(key);
    } catch {
      continue;
    }
    if (
      !Array.isArray(e) || e.length !== 4 || typeof e[0] !== "string" ||
      typeof e[1] !== "string" || typeof e[2] !== "number" || typeof e[3] !== "number"
    ) continue;
    out.push({
      resourceType: Number(m[1]),
      patternType: Number(m[2]),
      resourceName: m[3],
      principal: e[0],
      host: e[1],
      operation: e[2],
      permission: e[3],
    });
  }
  return out;
}

/** Every ACL in the store, with the versions of their entities (to tell a change). */
export async function loadAcls(
  meta: MetaStore,
): Promise<{ acls: AclBinding[]; stamp: string }> {
  const entities = await meta.entityConfigs(ACL_ENTITY, null);
  const acls: AclBinding[] = [];
  const stamp: string[] = [];
  for (const e of entities) {
    acls.push(...bindingsOf(e.name, Object.keys(e.configs)));
    stamp.push(`${e.name}@${e.version}`);
  }
  return { acls, stamp: stamp.join("\n") };
}

/** Adds bindings (already valid); adding one that exists changes nothing, as in Kafka. */
export async function addAcls(meta: MetaStore, bindings: AclBinding[]): Promise<void> {
  const byPattern = new Map<string, Record<string, string>>();
  for (const b of bindings) {
    const k = patternKey(b);
    const changes = byPattern.get(k) ?? {};
    changes[entryKey(b)] = "1";
    byPattern.set(k, changes);
  }
  await Promise.all(
    [...byPattern].map(([k, changes]) => meta.alterEntityConfigs(ACL_ENTITY, k, changes)),
  );
}

/**
 * Removes the ACLs matching each filter and returns, per filter, the ones it
 * matched (Kafka's DeleteAcls answer). An ACL two filters match is reported
 * under each.
 */
export async function deleteAcls(meta: MetaStore, filters: AclFilter[]): Promise<AclBinding[][]> {
  const { acls } = await loadAcls(meta);
  const matched = filters.map((f) => acls.filter((b) => filterMatches(f, b)));
  const byPattern = new Map<string, Record<string, null>>();
  for (const b of matched.flat()) {
    const k = patternKey(b);
    const changes = byPattern.get(k) ?? {};
    changes[entryKey(b)] = null;
    byPattern.set(k, changes);
  }
  await Promise.all(
    [...byPattern].map(([k, changes]) => meta.alterEntityConfigs(ACL_ENTITY, k, changes)),
  );
  return matched;
}
