/**
 * AlterConfigs (key 33, versions 0-2) and IncrementalAlterConfigs (key 44,
 * versions 0-1, KIP-339) for topics. AlterConfigs replaces a topic's whole
 * config set; the incremental form sets (0), deletes (1), appends to (2) or
 * subtracts from (3) single entries. Broker configs are static here (flags):
 * altering them is refused with a message saying so.
 */

import { ALTER_CONFIGS_API, INCREMENTAL_ALTER_CONFIGS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { TOPIC_CONFIGS } from "../broker/config.ts";
import { topicConfigProblem } from "./configs.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const TOPIC = 2;

interface Outcome {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

async function alterTopic(
  ctx: RequestContext,
  resourceType: number,
  name: string,
  change: (current: Record<string, string>) => Record<string, string> | string,
  validateOnly: boolean,
): Promise<Outcome> {
  const out: Outcome = {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resourceType,
    resourceName: name,
  };
  if (resourceType !== TOPIC) {
    out.errorCode = ErrorCode.INVALID_REQUEST;
    out.errorMessage = resourceType === 4
      ? "Broker configs are set by flags and environment variables at start; restart with new values"
      : `Resource type ${resourceType} is not supported (2 topic)`;
    return out;
  }
  const topic = await ctx.broker.meta.getTopic(name);
  if (!topic) {
    out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    out.errorMessage = `Topic ${JSON.stringify(name)} does not exist`;
    return out;
  }
  const next = change(topic.configs);
  if (typeof next === "string") {
    out.errorCode = ErrorCode.INVALID_CONFIG;
    out.errorMessage = next;
    return out;
  }
  const problem = topicConfigProblem(next);
  if (problem) {
    out.errorCode = ErrorCode.INVALID_CONFIG;
    out.errorMessage = problem;
    return out;
  }
  if (!validateOnly) {
    await ctx.broker.meta.setTopicConfigs(name, next);
    ctx.broker.topics.forget(name);
  }
  return out;
}

export const alterConfigs = defineHandler({
  api: ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const responses = [];
    for (const r of req.resources) {
      responses.push(
        await alterTopic(ctx, r.resourceType, r.resourceName, () => {
          const next: Record<string, string> = {};
          for (const c of r.configs) if (c.value !== null) next[c.name] = c.value;
          return next;
        }, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
});

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

export const incrementalAlterConfigs = defineHandler({
  api: INCREMENTAL_ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const responses = [];
    for (const r of req.resources) {
      responses.push(
        await alterTopic(ctx, r.resourceType, r.resourceName, (current) => {
          const next = { ...current };
          for (const c of r.configs) {
            const spec = TOPIC_CONFIGS[c.name];
            if (!spec) return `Unknown topic config ${JSON.stringify(c.name)}`;
            const list = () =>
              (next[c.name] ?? spec.default).split(",").map((s) => s.trim()).filter(Boolean);
            switch (c.configOperation) {
              case SET:
                if (c.value === null) return `Config ${c.name} needs a value to be set`;
                next[c.name] = c.value;
                break;
              case DELETE:
                delete next[c.name];
                break;
              case APPEND:
              case SUBTRACT: {
                if (spec.type !== 7) {
                  return `Config ${c.name} is not a list; append and subtract need one`;
                }
                const items = list();
                const given = (c.value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
                next[c.name] = (c.configOperation === APPEND
                  ? [
                    ...items,
                    ...given.filter((g) => !items.includes(g)),
                  ]
                  : items.filter((i) => !given.includes(i))).join(",");
                break;
              }
              default:
                return `Config operation ${c.configOperation} is not one of 0 set, 1 delete, 2 append, 3 subtract`;
            }
          }
          return next;
        }, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
});
