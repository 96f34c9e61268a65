/**
 * AlterConfigs (key 33, versions 0-2) and IncrementalAlterConfigs (key 44,
 * versions 0-1, KIP-339) for topics (resource type 2), brokers (4; name "" is
 * the cluster-wide default, a node id one broker: KIP-226 dynamic configs) and,
 * incrementally only, groups (32, KIP-848 group configs). AlterConfigs
 * replaces a resource's whole dynamic config set; the incremental form sets
 * (0), deletes (1), appends to (2) or subtracts from (3) single entries.
 *
 * Broker and group configs are kept in the meta store (one atomic change per
 * resource) and applied by every broker sharing it within about a second.
 * Broker configs that cannot change at run time are refused with a message
 * naming what sets them. A store failure answers the resource with a
 * retriable code; the connection stays open.
 */

import { ALTER_CONFIGS_API, INCREMENTAL_ALTER_CONFIGS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { TOPIC_CONFIGS } from "../broker/config.ts";
import {
  BROKER_CONFIGS,
  BROKER_ENTITY,
  brokerConfigProblem,
  GROUP_CONFIGS,
  GROUP_ENTITY,
  groupConfigProblem,
} from "../broker/dynamic_config.ts";
import { ResourceType, storeFailure, topicConfigProblem } from "./configs.ts";
import { AclOperation, configResourceRefusal } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

interface Outcome {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/** One change of IncrementalAlterConfigs; AlterConfigs is a SET of each given entry plus "replace". */
interface Op {
  name: string;
  op: number;
  value: string | null;
}

/** Compare-and-set attempts of a group's configs before answering a retriable error. */
const MAX_ATTEMPTS = 5;

/** Applies ops to a config set; a string is what is wrong. `typeOf` gives a config's type (7: list). */
function applyOps(
  current: Record<string, string>,
  ops: Op[],
  typeOf: (name: string) => number | undefined,
  defaultOf: (name: string) => string,
): Record<string, string> | string {
  const next = { ...current };
  for (const c of ops) {
    switch (c.op) {
      case SET:
        if (c.value === null) return `Config ${c.name} needs a value to be set`;
        next[c.name] = c.value;
        break;
      case DELETE:
        delete next[c.name];
        break;
      case APPEND:
      case SUBTRACT: {
        if (typeOf(c.name) !== 7) {
          return `Config ${c.name} is not a list; append and subtract need one`;
        }
        const items = (next[c.name] ?? defaultOf(c.name)).split(",").map((s) => s.trim())
          .filter(Boolean);
        const given = (c.value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
        next[c.name] = (c.op === APPEND
          ? [
            ...items,
            ...given.filter((g) => !items.includes(g)),
          ]
          : items.filter((i) => !given.includes(i))).join(",");
        break;
      }
      default:
        return `Config operation ${c.op} is not one of 0 set, 1 delete, 2 append, 3 subtract`;
    }
  }
  return next;
}

/** The changes that turn `current` into `next` (null removes). */
function diff(
  current: Record<string, string>,
  next: Record<string, string>,
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const k of Object.keys(current)) if (!(k in next)) changes[k] = null;
  for (const [k, v] of Object.entries(next)) if (current[k] !== v) changes[k] = v;
  return changes;
}

async function alterResource(
  ctx: RequestContext,
  resourceType: number,
  name: string,
  ops: Op[],
  replace: boolean,
  validateOnly: boolean,
): Promise<Outcome> {
  const out: Outcome = {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resourceType,
    resourceName: name,
  };
  const fail = (code: number, message: string) => {
    out.errorCode = code;
    out.errorMessage = message;
    return out;
  };
  const refused = configResourceRefusal(ctx, AclOperation.ALTER_CONFIGS, resourceType, name);
  if (refused !== null) return fail(refused, "Authorization failed.");
  const names = ops.map((o) => o.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    return fail(ErrorCode.INVALID_REQUEST, `Config ${JSON.stringify(twice)} is named twice`);
  }
  try {
    if (resourceType === ResourceType.TOPIC) {
      return await alterTopic(ctx, name, ops, replace, validateOnly, fail, out);
    }
    if (resourceType === ResourceType.BROKER) {
      return await alterBroker(ctx, name, ops, replace, validateOnly, fail, out);
    }
    if (resourceType === ResourceType.GROUP) {
      if (replace) {
        return fail(
          ErrorCode.INVALID_REQUEST,
          "Group configs are changed by IncrementalAlterConfigs only (kafka-configs does so)",
        );
      }
      return await alterGroup(ctx, name, ops, validateOnly, fail, out);
    }
    return fail(
      ErrorCode.INVALID_REQUEST,
      `Resource type ${resourceType} is not supported (2 topic, 4 broker, 32 group)`,
    );
  } catch (e) {
    const f = storeFailure(e);
    return fail(f.errorCode, f.errorMessage);
  }
}

type Fail = (code: number, message: string) => Outcome;

async function alterTopic(
  ctx: RequestContext,
  name: string,
  ops: Op[],
  replace: boolean,
  validateOnly: boolean,
  fail: Fail,
  out: Outcome,
): Promise<Outcome> {
  for (const o of ops) {
    if (!TOPIC_CONFIGS[o.name]) {
      return fail(ErrorCode.INVALID_CONFIG, `Unknown topic config ${JSON.stringify(o.name)}`);
    }
  }
  const topic = await ctx.broker.meta.getTopic(name);
  if (!topic) {
    return fail(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      `Topic ${JSON.stringify(name)} does not exist`,
    );
  }
  const next = applyOps(
    replace ? {} : topic.configs,
    ops,
    (n) => TOPIC_CONFIGS[n]?.type,
    (n) => TOPIC_CONFIGS[n]?.default ?? "",
  );
  if (typeof next === "string") return fail(ErrorCode.INVALID_CONFIG, next);
  const problem = topicConfigProblem(next);
  if (problem) return fail(ErrorCode.INVALID_CONFIG, problem);
  if (!validateOnly) {
    await ctx.broker.meta.setTopicConfigs(name, next);
    ctx.broker.topics.forget(name);
  }
  return out;
}

async function alterBroker(
  ctx: RequestContext,
  name: string,
  ops: Op[],
  replace: boolean,
  validateOnly: boolean,
  fail: Fail,
  out: Outcome,
): Promise<Outcome> {
  if (name !== "" && !/^\d+$/.test(name)) {
    return fail(
      ErrorCode.INVALID_REQUEST,
      `Broker ${
        JSON.stringify(name)
      } is not a node id; give one, or "" for the cluster-wide default`,
    );
  }
  for (const o of ops) {
    const problem = brokerConfigProblem(o.name, o.op === SET ? o.value ?? "" : null);
    if (problem) return fail(ErrorCode.INVALID_CONFIG, problem);
  }
  return await alterEntity(
    ctx,
    BROKER_ENTITY,
    name,
    fail,
    out,
    validateOnly,
    (configs) => applyOps(replace ? {} : configs, ops, (n) => BROKER_CONFIGS[n]?.type, () => ""),
  );
}

/**
 * One entity's configs changed by compare-and-set: read them, compute the next
 * (or why not), write them back with the version read, and on a conflict read
 * again. The broker's own cache learns the result at once; the others within
 * their refresh interval.
 */
async function alterEntity(
  ctx: RequestContext,
  entity: typeof BROKER_ENTITY | typeof GROUP_ENTITY,
  name: string,
  fail: Fail,
  out: Outcome,
  validateOnly: boolean,
  next: (configs: Record<string, string>) => Record<string, string> | string,
): Promise<Outcome> {
  const meta = ctx.broker.meta;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [current] = await meta.entityConfigs(entity, [name]);
    const configs = current?.configs ?? {};
    const wanted = next(configs);
    if (typeof wanted === "string") return fail(ErrorCode.INVALID_CONFIG, wanted);
    if (validateOnly) return out;
    const done = await meta.alterEntityConfigs(
      entity,
      name,
      diff(configs, wanted),
      current?.version ?? 0,
    );
    if (done) {
      if (entity === BROKER_ENTITY) ctx.broker.dynamicConfigs.noteBroker(name, done.configs);
      else ctx.broker.dynamicConfigs.noteGroup(name, done.configs);
      return out;
    }
  }
  const what = entity === BROKER_ENTITY ? "Broker" : "Group";
  return fail(
    ErrorCode.REQUEST_TIMED_OUT,
    `${what} ${JSON.stringify(name)} configs kept changing; retry`,
  );
}

async function alterGroup(
  ctx: RequestContext,
  name: string,
  ops: Op[],
  validateOnly: boolean,
  fail: Fail,
  out: Outcome,
): Promise<Outcome> {
  if (name === "") {
    return fail(ErrorCode.INVALID_REQUEST, "A group config resource needs a group id");
  }
  for (const o of ops) {
    if (!GROUP_CONFIGS[o.name]) {
      return fail(
        ErrorCode.INVALID_CONFIG,
        `Unknown group config ${JSON.stringify(o.name)}; supported: ${
          Object.keys(GROUP_CONFIGS).join(", ")
        }`,
      );
    }
  }
  return await alterEntity(ctx, GROUP_ENTITY, name, fail, out, validateOnly, (configs) => {
    const next = applyOps(configs, ops, () => 3, () => "");
    if (typeof next === "string") return next;
    return groupConfigProblem(next, ctx.broker.config) ?? next;
  });
}

export const alterConfigs = defineHandler({
  api: ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const responses = [];
    for (const r of req.resources) {
      const ops = r.configs.filter((c) => c.value !== null).map((c) => ({
        name: c.name,
        op: SET,
        value: c.value,
      }));
      responses.push(
        await alterResource(ctx, r.resourceType, r.resourceName, ops, true, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
});

export const incrementalAlterConfigs = defineHandler({
  api: INCREMENTAL_ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const responses = [];
    for (const r of req.resources) {
      const ops = r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }));
      responses.push(
        await alterResource(ctx, r.resourceType, r.resourceName, ops, false, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
});
