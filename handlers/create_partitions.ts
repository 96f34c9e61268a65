/**
 * CreatePartitions (key 37), versions 0-3: grows a topic. The count must be
 * larger than the current one; validate_only checks without changing.
 */

import {
  CREATE_PARTITIONS_API,
  type CreatePartitionsResponseResult,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedTopic, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const createPartitions = defineHandler({
  api: CREATE_PARTITIONS_API,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const { broker } = ctx;
    const results: CreatePartitionsResponseResult[] = [];
    for (const t of req.topics) {
      const r: CreatePartitionsResponseResult = {
        name: t.name,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      };
      results.push(r);
      if (!allowedTopic(ctx, Op.ALTER, t.name)) {
        r.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        r.errorMessage = "Topic authorization failed.";
        continue;
      }
      try {
        const topic = await broker.meta.getTopic(t.name);
        if (!topic) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          r.errorMessage = `Topic ${JSON.stringify(t.name)} does not exist`;
          continue;
        }
        if (t.count <= topic.partitions) {
          r.errorCode = ErrorCode.INVALID_PARTITIONS;
          r.errorMessage = `Topic ${JSON.stringify(t.name)} has ${topic.partitions} partitions; ` +
            `the new count ${t.count} must be larger`;
          continue;
        }
        if (t.count > 10000) {
          r.errorCode = ErrorCode.INVALID_PARTITIONS;
          r.errorMessage = `Partition count ${t.count} is over the limit of 10000`;
          continue;
        }
        if (req.validateOnly) continue;
        const info = await broker.meta.createPartitions(t.name, t.count);
        broker.topics.remember(t.name, info);
      } catch (e) {
        broker.metrics.storeError("meta", "createPartitions");
        r.errorCode = ErrorCode.REQUEST_TIMED_OUT;
        r.errorMessage = `Meta store failed: ${(e as Error).message}`;
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
