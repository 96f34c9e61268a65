/**
 * CreateTopics (key 19), versions 2-7. -1 partitions means the broker's
 * default (KIP-464). Replication is the stores' business, so any replication
 * factor is accepted and reported as asked (-1 reports 1). validate_only
 * checks everything and creates nothing. The response carries the topic's
 * configs from v5 (KIP-525) and its id from v7 (KIP-516).
 *
 * As in Kafka, a name that is taken answers TOPIC_ALREADY_EXISTS before its
 * partitions or configs are checked (Kafka Connect creates its internal topics
 * on every start and relies on this). -1 partitions takes num.partitions,
 * dynamic or not. A meta store failure answers that topic with a retriable
 * code and the connection stays open.
 */

import { CREATE_TOPICS_API, type CreateTopicsResponseTopic } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { topicNameProblem } from "../broker/config.ts";
import { storeFailure, topicConfigEntries, topicConfigProblem } from "./configs.ts";
import { allowedCluster, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

const MAX_PARTITIONS = 10000;

export const createTopics = defineHandler({
  api: CREATE_TOPICS_API,
  minVersion: 2,
  maxVersion: 7,
  async handle(req, ctx) {
    const { broker } = ctx;
    const dyn = broker.dynamicConfigs;
    const out: CreateTopicsResponseTopic[] = [];
    const seen = new Set<string>();
    // CREATE on the cluster covers every topic; else each topic needs its own (KIP-11).
    const clusterCreate = allowedCluster(ctx, Op.CREATE);
    for (const t of req.topics) {
      const r: CreateTopicsResponseTopic = {
        name: t.name,
        topicId: ZERO_UUID,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      };
      out.push(r);
      const fail = (code: number, message: string) => {
        r.errorCode = code;
        r.errorMessage = message;
      };
      if (seen.has(t.name)) {
        fail(ErrorCode.INVALID_REQUEST, `Topic ${JSON.stringify(t.name)} is named twice`);
        continue;
      }
      seen.add(t.name);
      if (!clusterCreate && !allowedTopic(ctx, Op.CREATE, t.name)) {
        fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.");
        continue;
      }
      const nameProblem = topicNameProblem(t.name);
      if (nameProblem) {
        fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
        continue;
      }
      try {
        if (await broker.meta.getTopic(t.name)) {
          fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic ${JSON.stringify(t.name)} already exists`);
          continue;
        }
      } catch (e) {
        const f = storeFailure(e);
        fail(f.errorCode, f.errorMessage);
        continue;
      }
      const partitions = t.numPartitions === -1 ? broker.config.defaultPartitions : t.numPartitions;
      if (t.assignments.length > 0) {
        fail(
          ErrorCode.INVALID_REQUEST,
          "Manual replica assignment is not supported; give numPartitions",
        );
        continue;
      }
      if (partitions < 1 || partitions > MAX_PARTITIONS) {
        fail(
          ErrorCode.INVALID_PARTITIONS,
          `numPartitions ${t.numPartitions} is outside 1..${MAX_PARTITIONS}`,
        );
        continue;
      }
      if (t.replicationFactor === 0 || t.replicationFactor < -1) {
        fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `replicationFactor ${t.replicationFactor} must be -1 or at least 1`,
        );
        continue;
      }
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      const configProblem = topicConfigProblem(
        Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
      );
      if (configProblem) {
        fail(ErrorCode.INVALID_CONFIG, configProblem);
        continue;
      }
      r.numPartitions = partitions;
      r.replicationFactor = t.replicationFactor === -1 ? 1 : t.replicationFactor;
      const describe = (
        info: { id: string; name: string; partitions: number; configs: Record<string, string> },
      ) =>
        // The configs are told only to a caller that may DESCRIBE_CONFIGS the topic.
        !allowedTopic(ctx, Op.DESCRIBE_CONFIGS, info.name)
          ? (r.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED, [])
          : topicConfigEntries(info, dyn).map((e) => ({
            name: e.name,
            value: e.value,
            readOnly: e.readOnly,
            configSource: e.source,
            isSensitive: e.isSensitive,
          }));
      if (req.validateOnly) {
        r.configs = describe({ id: ZERO_UUID, name: t.name, partitions, configs });
        continue;
      }
      try {
        const info = await broker.meta.createTopic({ name: t.name, partitions, configs });
        if (!info) {
          fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic ${JSON.stringify(t.name)} already exists`);
          continue;
        }
        broker.topics.remember(info.name, info);
        r.topicId = info.id;
        r.configs = describe(info);
      } catch (e) {
        const f = storeFailure(e);
        fail(f.errorCode, f.errorMessage);
      }
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
