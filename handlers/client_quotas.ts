/**
 * DescribeClientQuotas (key 48) and AlterClientQuotas (key 49), versions 0-1
 * (KIP-546): quotas of users, client ids, a user and client id pair, or IP
 * addresses (null name: the default entity of the type), with Kafka's
 * validation and filter semantics (exact name, default, any; strict).
 *
 * The quotas are kept in the meta store (entity type "quotas", one entity per
 * combination, changed atomically) so that every broker sees the same ones,
 * but they are NOT ENFORCED yet: no client is throttled and every response
 * says throttleTimeMs 0.
 */

import {
  ALTER_CLIENT_QUOTAS_API,
  type AlterClientQuotasResponseEntry,
  DESCRIBE_CLIENT_QUOTAS_API,
  type DescribeClientQuotasResponseEntry,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { QUOTA_ENTITY } from "../broker/dynamic_config.ts";
import { storeFailure } from "./configs.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** An entity: entity type -> name (null: the default). */
type Entity = Record<string, string | null>;

const USER = "user";
const CLIENT_ID = "client-id";
const IP = "ip";

/** The quota keys, the entities they apply to and whether their values are whole numbers. */
const QUOTA_KEYS: Record<string, { ip: boolean; whole: boolean }> = {
  producer_byte_rate: { ip: false, whole: true },
  consumer_byte_rate: { ip: false, whole: true },
  request_percentage: { ip: false, whole: false },
  controller_mutation_rate: { ip: false, whole: false },
  connection_creation_rate: { ip: true, whole: true },
};

/** The meta store name of an entity: its entries sorted by type, as JSON. */
function entityKey(e: Entity): string {
  return JSON.stringify(Object.keys(e).sort().map((t) => [t, e[t]]));
}

function entityOf(key: string): Entity {
  return Object.fromEntries(JSON.parse(key) as [string, string | null][]);
}

function isIpAddress(s: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s.split(".").every((p) => Number(p) <= 255);
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s);
}

/** What is wrong with an entity, as Kafka checks it; null when nothing. */
function entityProblem(parts: { entityType: string; entityName: string | null }[]): string | null {
  if (parts.length === 0) return "A quota entity needs at least one entity type";
  const types = parts.map((p) => p.entityType);
  for (const [i, t] of types.entries()) {
    if (t !== USER && t !== CLIENT_ID && t !== IP) {
      return `Unknown quota entity type ${JSON.stringify(t)}; use user, client-id or ip`;
    }
    if (types.indexOf(t) !== i) return `Quota entity type ${t} is given twice`;
  }
  if (types.includes(IP) && types.length > 1) {
    return "An ip quota entity cannot be combined with user or client-id";
  }
  const ip = parts.find((p) => p.entityType === IP);
  if (ip && ip.entityName !== null && !isIpAddress(ip.entityName)) {
    return `${JSON.stringify(ip.entityName)} is not an IP address`;
  }
  return null;
}

/** What is wrong with setting `key` to `value` on an entity; null when nothing. */
function quotaProblem(key: string, value: number, remove: boolean, ip: boolean): string | null {
  const spec = QUOTA_KEYS[key];
  if (!spec) {
    return `Unknown quota key ${JSON.stringify(key)}; use ${Object.keys(QUOTA_KEYS).join(", ")}`;
  }
  if (spec.ip !== ip) {
    return ip
      ? `Quota ${key} does not apply to ip entities; connection_creation_rate does`
      : `Quota ${key} applies to ip entities only`;
  }
  if (remove) return null;
  if (!Number.isFinite(value) || value <= 0) {
    return `Quota ${key}=${value} must be greater than 0`;
  }
  if (spec.whole && !Number.isInteger(value)) return `Quota ${key}=${value} must be a whole number`;
  return null;
}

export const alterClientQuotas = defineHandler({
  api: ALTER_CLIENT_QUOTAS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    if (!allowedCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      return {
        throttleTimeMs: 0,
        entries: req.entries.map((e) => ({
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: "Cluster authorization failed.",
          entity: e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
        })),
      };
    }
    const entries: AlterClientQuotasResponseEntry[] = [];
    for (const e of req.entries) {
      const r: AlterClientQuotasResponseEntry = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        entity: e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
      };
      entries.push(r);
      const fail = (message: string) => {
        r.errorCode = ErrorCode.INVALID_REQUEST;
        r.errorMessage = message;
      };
      const problem = entityProblem(e.entity);
      if (problem) {
        fail(problem);
        continue;
      }
      const ip = e.entity.some((p) => p.entityType === IP);
      const keys = e.ops.map((o) => o.key);
      const twice = keys.find((k, i) => keys.indexOf(k) !== i);
      if (twice !== undefined) {
        fail(`Quota ${twice} is changed twice`);
        continue;
      }
      const bad = e.ops.map((o) => quotaProblem(o.key, o.value, o.remove, ip)).find((p) => p);
      if (bad) {
        fail(bad);
        continue;
      }
      if (req.validateOnly || e.ops.length === 0) continue;
      const changes: Record<string, string | null> = {};
      for (const o of e.ops) changes[o.key] = o.remove ? null : String(o.value);
      const entity: Entity = Object.fromEntries(e.entity.map((p) => [p.entityType, p.entityName]));
      try {
        await ctx.broker.meta.alterEntityConfigs(QUOTA_ENTITY, entityKey(entity), changes);
      } catch (err) {
        Object.assign(r, storeFailure(err));
      }
    }
    return { throttleTimeMs: 0, entries };
  },
});

const EXACT = 0;
const DEFAULT = 1;
const ANY = 2;

export const describeClientQuotas = defineHandler({
  api: DESCRIBE_CLIENT_QUOTAS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    if (!allowedCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        entries: null,
      };
    }
    const failed = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      entries: null,
    });
    const types = req.components.map((c) => c.entityType);
    for (const [i, c] of req.components.entries()) {
      if (types.indexOf(c.entityType) !== i) {
        return failed(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} is filtered twice`);
      }
      if (c.matchType === EXACT && c.match === null) {
        return failed(ErrorCode.INVALID_REQUEST, `An exact match of ${c.entityType} needs a name`);
      }
      if (c.matchType !== EXACT && c.match !== null) {
        return failed(
          ErrorCode.INVALID_REQUEST,
          `Only an exact match of ${c.entityType} takes a name (match type ${c.matchType})`,
        );
      }
      if (c.matchType < EXACT || c.matchType > ANY) {
        return failed(
          ErrorCode.INVALID_REQUEST,
          `Match type ${c.matchType} is not one of 0 exact, 1 default, 2 any`,
        );
      }
    }
    let stored;
    try {
      stored = await ctx.broker.meta.entityConfigs(QUOTA_ENTITY, null);
    } catch (e) {
      const f = storeFailure(e);
      return failed(f.errorCode, f.errorMessage);
    }
    const entries: DescribeClientQuotasResponseEntry[] = [];
    for (const s of stored) {
      const entity = entityOf(s.name);
      const matches = req.components.every((c) => {
        if (!(c.entityType in entity)) return false;
        const name = entity[c.entityType];
        if (c.matchType === EXACT) return name === c.match;
        if (c.matchType === DEFAULT) return name === null;
        return true;
      });
      if (!matches) continue;
      if (req.strict && Object.keys(entity).some((t) => !types.includes(t))) continue;
      entries.push({
        entity: Object.entries(entity).map(([entityType, entityName]) => ({
          entityType,
          entityName,
        })),
        values: Object.entries(s.configs).map(([key, value]) => ({ key, value: Number(value) })),
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
