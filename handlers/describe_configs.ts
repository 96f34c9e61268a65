/**
 * DescribeConfigs (key 32), versions 1-4: topic (resource type 2) and broker
 * (type 4) configs, each with its source, synonyms when asked (v1+), and type
 * and documentation (v3+, KIP-569).
 */

import {
  DESCRIBE_CONFIGS_API,
  type DescribeConfigsResponseResult,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { brokerConfigEntries, type ConfigEntry, topicConfigEntries } from "./configs.ts";
import { defineHandler } from "./types.ts";

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;

export const describeConfigs = defineHandler({
  api: DESCRIBE_CONFIGS_API,
  minVersion: 1,
  maxVersion: 4,
  async handle(req, ctx) {
    const { broker } = ctx;
    const results: DescribeConfigsResponseResult[] = [];
    for (const res of req.resources) {
      const r: DescribeConfigsResponseResult = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resourceType: res.resourceType,
        resourceName: res.resourceName,
        configs: [],
      };
      results.push(r);
      let entries: ConfigEntry[];
      if (res.resourceType === TOPIC) {
        const topic = await broker.topics.byTopicName(res.resourceName);
        if (!topic) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          r.errorMessage = `Topic ${JSON.stringify(res.resourceName)} does not exist`;
          continue;
        }
        entries = topicConfigEntries(topic);
      } else if (res.resourceType === BROKER || res.resourceType === BROKER_LOGGER) {
        if (res.resourceName !== "" && res.resourceName !== String(broker.config.nodeId)) {
          r.errorCode = ErrorCode.INVALID_REQUEST;
          r.errorMessage = `Broker ${
            JSON.stringify(res.resourceName)
          } is not this broker (${broker.config.nodeId})`;
          continue;
        }
        entries = res.resourceType === BROKER ? brokerConfigEntries(broker.config) : [];
      } else {
        r.errorCode = ErrorCode.INVALID_REQUEST;
        r.errorMessage = `Resource type ${res.resourceType} is not supported (2 topic, 4 broker)`;
        continue;
      }
      const keys = res.configurationKeys;
      r.configs = entries
        .filter((e) => keys === null || keys.length === 0 || keys.includes(e.name))
        .map((e) => ({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          isDefault: e.source === 5,
          configSource: e.source,
          isSensitive: e.isSensitive,
          synonyms: req.includeSynonyms ? [{ name: e.name, value: e.value, source: e.source }] : [],
          configType: e.type,
          documentation: req.includeDocumentation ? e.documentation : null,
        }));
    }
    return { throttleTimeMs: 0, results };
  },
});
