/**
 * DescribeConfigs (key 32), versions 1-4: topic (resource type 2), broker (4;
 * name "" is the cluster-wide dynamic default, KIP-226) and group (32, KIP-848)
 * configs, each with its source, synonyms when asked (v1+), and type and
 * documentation (v3+, KIP-569). Dynamic configs are read from the meta store
 * on each request; a store failure answers the resource with a retriable code.
 */

import {
  DESCRIBE_CONFIGS_API,
  type DescribeConfigsResponseResult,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { BROKER_ENTITY, GROUP_ENTITY } from "../broker/dynamic_config.ts";
import {
  brokerConfigEntries,
  type ConfigEntry,
  ConfigSource,
  groupConfigEntries,
  ResourceType,
  storeFailure,
  topicConfigEntries,
} from "./configs.ts";
import { AclOperation, configResourceRefusal } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const describeConfigs = defineHandler({
  api: DESCRIBE_CONFIGS_API,
  minVersion: 1,
  maxVersion: 4,
  async handle(req, ctx) {
    const { broker } = ctx;
    const dyn = broker.dynamicConfigs;
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
      const refused = configResourceRefusal(
        ctx,
        AclOperation.DESCRIBE_CONFIGS,
        res.resourceType,
        res.resourceName,
      );
      if (refused !== null) {
        r.errorCode = refused;
        r.errorMessage = "Authorization failed.";
        continue;
      }
      let entries: ConfigEntry[];
      try {
        if (res.resourceType === ResourceType.TOPIC) {
          const topic = await broker.topics.byTopicName(res.resourceName);
          if (!topic) {
            r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            r.errorMessage = `Topic ${JSON.stringify(res.resourceName)} does not exist`;
            continue;
          }
          await dyn.refresh();
          entries = topicConfigEntries(topic, dyn);
        } else if (
          res.resourceType === ResourceType.BROKER ||
          res.resourceType === ResourceType.BROKER_LOGGER
        ) {
          const self = String(broker.config.nodeId);
          if (res.resourceName !== "" && res.resourceName !== self) {
            r.errorCode = ErrorCode.INVALID_REQUEST;
            r.errorMessage = `Broker ${
              JSON.stringify(res.resourceName)
            } is not this broker (${self}); ask it, or describe "" for the cluster-wide default`;
            continue;
          }
          if (res.resourceType === ResourceType.BROKER_LOGGER) {
            entries = [];
          } else {
            const found = await broker.meta.entityConfigs(BROKER_ENTITY, ["", self]);
            const of = (n: string) => found.find((e) => e.name === n)?.configs ?? {};
            entries = brokerConfigEntries(dyn, res.resourceName, of(self), of(""));
          }
        } else if (res.resourceType === ResourceType.GROUP) {
          if (res.resourceName === "") {
            r.errorCode = ErrorCode.INVALID_REQUEST;
            r.errorMessage = "A group config resource needs a group id";
            continue;
          }
          const [g] = await broker.meta.entityConfigs(GROUP_ENTITY, [res.resourceName]);
          entries = groupConfigEntries(g?.configs ?? {}, broker.config);
        } else {
          r.errorCode = ErrorCode.INVALID_REQUEST;
          r.errorMessage =
            `Resource type ${res.resourceType} is not supported (2 topic, 4 broker, 8 broker logger, 32 group)`;
          continue;
        }
      } catch (e) {
        Object.assign(r, storeFailure(e));
        continue;
      }
      const keys = res.configurationKeys;
      r.configs = entries
        .filter((e) => keys === null || keys.length === 0 || keys.includes(e.name))
        .map((e) => ({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          isDefault: e.source === ConfigSource.DEFAULT_CONFIG,
          configSource: e.source,
          isSensitive: e.isSensitive,
          synonyms: req.includeSynonyms ? e.synonyms : [],
          configType: e.type,
          documentation: req.includeDocumentation ? e.documentation : null,
        }));
    }
    return { throttleTimeMs: 0, results };
  },
});
