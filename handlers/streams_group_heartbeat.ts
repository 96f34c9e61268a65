/**
 * StreamsGroupHeartbeat (key 88), versions 0-1: the membership request of
 * streams groups (KIP-1071), where the broker assigns Kafka Streams tasks.
 * Members join with epoch 0 and their topology, heartbeat with the tasks they
 * own, and leave with -1; the broker keeps the topology, creates the internal
 * topics it needs (repartition topics sized from their source topics,
 * compacted changelogs sized to the task count) before it answers, assigns
 * active and standby tasks with the sticky assignor and reconciles each
 * member towards its target (broker/streams_group_state.ts). Statuses tell
 * the member what keeps tasks from running (missing source topics, a stale
 * topology). Settings are the group's configs (streams.session.timeout.ms,
 * streams.heartbeat.interval.ms, streams.num.standby.replicas) over Kafka's
 * defaults. The group is the same compare-and-set record in the shared meta
 * store as other groups', so members may heartbeat through any broker.
 * Version 1 only adds response fields (KIP-1331): the broker never asks for
 * the topology description, and reports the acceptable recovery lag.
 */

import {
  STREAMS_GROUP_HEARTBEAT_API,
  type StreamsGroupHeartbeatRequest,
  type StreamsGroupHeartbeatResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicMeta } from "../broker/consumer_group_state.ts";
import {
  type StreamsGroup,
  type StreamsHeartbeatInput,
  tasksFromWire,
  tasksToWire,
} from "../broker/streams_group_state.ts";
import type { StreamsTopology } from "../broker/streams_topology.ts";
import { ensureInternalTopics, loadTopologyTopics, streamsSettings } from "./_streams.ts";
import { clientHost, groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/** Kafka Streams' acceptable.recovery.lag default, answered as the group's (KIP-1071). */
const ACCEPTABLE_RECOVERY_LAG = 10_000;
/** How often members report their changelog offsets (Kafka's streams.task.offset.interval.ms). */
const TASK_OFFSET_INTERVAL_MS = 60_000;

function topologyOf(req: StreamsGroupHeartbeatRequest): StreamsTopology | null {
  if (req.topology === null) return null;
  return {
    epoch: req.topology.epoch,
    subtopologies: req.topology.subtopologies.map((s) => ({
      subtopologyId: s.subtopologyId,
      sourceTopics: s.sourceTopics,
      sourceTopicRegex: s.sourceTopicRegex,
      stateChangelogTopics: s.stateChangelogTopics.map((t) => ({
        name: t.name,
        partitions: t.partitions,
        replicationFactor: t.replicationFactor,
        topicConfigs: t.topicConfigs.map((c) => [c.key, c.value] as [string, string]),
      })),
      repartitionSinkTopics: s.repartitionSinkTopics,
      repartitionSourceTopics: s.repartitionSourceTopics.map((t) => ({
        name: t.name,
        partitions: t.partitions,
        replicationFactor: t.replicationFactor,
        topicConfigs: t.topicConfigs.map((c) => [c.key, c.value] as [string, string]),
      })),
      copartitionGroups: s.copartitionGroups.map((g) => ({
        sourceTopics: g.sourceTopics,
        sourceTopicRegex: g.sourceTopicRegex,
        repartitionSourceTopics: g.repartitionSourceTopics,
      })),
    })),
  };
}

function inputOf(req: StreamsGroupHeartbeatRequest, ctx: RequestContext): StreamsHeartbeatInput {
  const offsets = (l: { subtopologyId: string; partition: number; offset: number }[] | null) =>
    l === null
      ? null
      : l.map((o) => [o.subtopologyId, o.partition, o.offset] as [string, number, number]);
  return {
    memberId: req.memberId,
    memberEpoch: req.memberEpoch,
    endpointInformationEpoch: req.endpointInformationEpoch,
    instanceId: req.instanceId,
    rackId: req.rackId,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    topology: topologyOf(req),
    activeTasks: req.activeTasks === null ? null : tasksFromWire(req.activeTasks),
    standbyTasks: req.standbyTasks === null ? null : tasksFromWire(req.standbyTasks),
    warmupTasks: req.warmupTasks === null ? null : tasksFromWire(req.warmupTasks),
    processId: req.processId,
    userEndpoint: req.userEndpoint === null
      ? null
      : { host: req.userEndpoint.host, port: req.userEndpoint.port },
    clientTags: req.clientTags === null
      ? null
      : req.clientTags.map((t) => [t.key, t.value] as [string, string]),
    taskOffsets: offsets(req.taskOffsets),
    taskEndOffsets: offsets(req.taskEndOffsets),
    shutdownApplication: req.shutdownApplication,
    clientId: ctx.header.clientId ?? "",
    clientHost: clientHost(ctx),
  };
}

export const streamsGroupHeartbeat = defineHandler({
  api: STREAMS_GROUP_HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx): Promise<StreamsGroupHeartbeatResponse> {
    const base = {
      throttleTimeMs: 0,
      acceptableRecoveryLagLegacy: ACCEPTABLE_RECOVERY_LAG,
      acceptableRecoveryLag: ACCEPTABLE_RECOVERY_LAG,
      taskOffsetIntervalMs: TASK_OFFSET_INTERVAL_MS,
      topologyDescriptionRequired: false,
    };
    const fail = (errorCode: number, errorMessage: string): StreamsGroupHeartbeatResponse => ({
      ...base,
      errorCode,
      errorMessage,
      memberId: req.memberId,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      status: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      endpointInformationEpoch: 0,
      partitionsByUserEndpoint: null,
    });
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
    }
    const sources = req.topology?.subtopologies.flatMap((s) => s.sourceTopics) ?? [];
    const hidden = [...new Set(sources)].filter((t) => !allowedTopic(ctx, Op.DESCRIBE, t));
    if (hidden.length > 0) {
      return fail(
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `Topic authorization failed for ${hidden.join(", ")}.`,
      );
    }
    if (req.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    try {
      const input = inputOf(req, ctx);
      const settings = await streamsSettings(ctx, req.groupId);
      const { result: r } = await ctx.broker.groups.streamsHeartbeat(
        req.groupId,
        input,
        settings,
        async (g: StreamsGroup | null): Promise<Map<string, TopicMeta>> => {
          // The topology in force: the joining member's when the group has none or an older
          // epoch (it will replace it), else the stored one.
          const sent = input.topology;
          const topology = sent !== null && (!g?.topology || sent.epoch > g.topology.epoch)
            ? sent
            : g?.topology ?? null;
          if (topology === null || input.memberEpoch < 0) return new Map();
          const topics = await loadTopologyTopics(ctx, topology);
          // Internal topics are created before the heartbeat is applied, so that the first
          // members of a new application get their tasks at once (Kafka creates them after
          // and reports MISSING_INTERNAL_TOPICS until they exist).
          return await ensureInternalTopics(ctx, topology, topics)
            ? await loadTopologyTopics(ctx, topology)
            : topics;
        },
      );
      return {
        ...base,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        memberId: r.memberId,
        memberEpoch: r.memberEpoch,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        status: r.status,
        activeTasks: r.tasks === null ? null : tasksToWire(r.tasks.active),
        standbyTasks: r.tasks === null ? null : tasksToWire(r.tasks.standby),
        warmupTasks: r.tasks === null ? null : tasksToWire(r.tasks.warmup),
        endpointInformationEpoch: r.endpointInformationEpoch,
        partitionsByUserEndpoint: r.partitionsByUserEndpoint,
      };
    } catch (e) {
      const code = groupErrorCode(e, ctx, req.groupId);
      return fail(code, `Group ${JSON.stringify(req.groupId)} could not be updated; retry`);
    }
  },
});
