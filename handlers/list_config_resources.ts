/**
 * ListConfigResources (key 74), versions 0-1. Version 0 was
 * ListClientMetricsResources: the client-metrics resources, of which this
 * broker has none (KIP-714 client metrics are not supported). Version 1
 * (KIP-1142) lists the resources of the types asked for (none: every type):
 * topics, brokers and broker loggers (the live brokers, this one at least),
 * groups (existing ones and ones with group configs) and client metrics.
 */

import {
  LIST_CONFIG_RESOURCES_API,
  type ListConfigResourcesResponseResource,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { GROUP_ENTITY } from "../broker/dynamic_config.ts";
import { ResourceType, storeFailure } from "./configs.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

const SUPPORTED: number[] = [
  ResourceType.TOPIC,
  ResourceType.BROKER,
  ResourceType.BROKER_LOGGER,
  ResourceType.CLIENT_METRICS,
  ResourceType.GROUP,
];

export const listConfigResources = defineHandler({
  api: LIST_CONFIG_RESOURCES_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    if (!allowedCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        configResources: [],
      };
    }
    const { broker } = ctx;
    const asked = ctx.apiVersion === 0
      ? [ResourceType.CLIENT_METRICS as number]
      : req.resourceTypes.length === 0
      ? SUPPORTED
      : req.resourceTypes;
    const unsupported = asked.find((t) => !SUPPORTED.includes(t));
    if (unsupported !== undefined) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, configResources: [] };
    }
    const out: ListConfigResourcesResponseResource[] = [];
    const add = (resourceType: number, names: Iterable<string>) => {
      for (const resourceName of [...new Set(names)].sort()) {
        out.push({ resourceName, resourceType });
      }
    };
    try {
      for (const t of asked) {
        if (t === ResourceType.TOPIC) {
          add(t, (await broker.meta.listTopics()).map((x) => x.name));
        } else if (t === ResourceType.BROKER || t === ResourceType.BROKER_LOGGER) {
          const live = await broker.meta.liveBrokers(Date.now());
          add(t, [String(broker.config.nodeId), ...live.map((b) => String(b.nodeId))]);
        } else if (t === ResourceType.GROUP) {
          const groups = (await broker.meta.listGroups()).map((g) => g.groupId);
          const configured = (await broker.meta.entityConfigs(GROUP_ENTITY, null)).map((e) =>
            e.name
          );
          add(t, [...groups, ...configured]);
        }
      }
    } catch (e) {
      return { throttleTimeMs: 0, errorCode: storeFailure(e).errorCode, configResources: [] };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, configResources: out };
  },
});
