/**
 * StreamsGroupHeartbeat (key 88): the one membership request of streams
 * groups (KIP-1071), where the broker, not a client leader, assigns Kafka
 * Streams tasks. A member joins with epoch 0 and its topology, heartbeats with
 * the tasks it owns, and leaves with -1 (-2: a static member leaving to come
 * back). The broker answers the tasks to run (active, standby, warm-up), the
 * group's status (missing topics, a stale topology, a requested shutdown) and,
 * for interactive queries, which partitions each member's endpoint serves.
 * Version 1 adds AcceptableRecoveryLag and TopologyDescriptionRequired
 * (KIP-1331) to the response and lets the broker answer status code 6
 * (MISSING_CLIENT_TAGS); its request is the same as version 0's.
 */
import type { ApiDef, FieldDef } from "../schema.ts";

/** Tasks as (subtopology id, partitions) pairs; `structName` keeps each use's type apart. */
function taskIds(name: string, structName: string, about: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    nullableVersions: "0+",
    default: null,
    about,
    fields: [
      { name: "subtopologyId", type: "string", versions: "0+" },
      { name: "partitions", type: "[]int32", versions: "0+" },
    ],
  };
}

function keyValues(name: string, structName: string, nullable: boolean): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    ...(nullable ? { nullableVersions: "0+", default: null } : {}),
    fields: [
      { name: "key", type: "string", versions: "0+" },
      { name: "value", type: "string", versions: "0+" },
    ],
  };
}

function topicInfos(name: string, structName: string, configStruct: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    about: "Internal topics (created by the broker when missing).",
    fields: [
      { name: "name", type: "string", versions: "0+" },
      {
        name: "partitions",
        type: "int32",
        versions: "0+",
        about: "0: decided by the broker (always 0 for changelog topics).",
      },
      {
        name: "replicationFactor",
        type: "int16",
        versions: "0+",
        about: "0: the broker's default.",
      },
      keyValues("topicConfigs", configStruct, false),
    ],
  };
}

function taskOffsets(name: string, structName: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    nullableVersions: "0+",
    default: null,
    about: "Cumulative changelog (end) offsets per task; null if unchanged.",
    fields: [
      { name: "subtopologyId", type: "string", versions: "0+" },
      { name: "partition", type: "int32", versions: "0+" },
      { name: "offset", type: "int64", versions: "0+" },
    ],
  };
}

function endpoint(name: string, structName: string, nullable: boolean): FieldDef {
  return {
    name,
    type: "struct",
    structName,
    versions: "0+",
    ...(nullable ? { nullableVersions: "0+", default: null } : {}),
    fields: [
      { name: "host", type: "string", versions: "0+" },
      { name: "port", type: "uint16", versions: "0+" },
    ],
  };
}

export default {
  name: "StreamsGroupHeartbeat",
  apiKey: 88,
  validVersions: "0-1",
  request: {
    name: "StreamsGroupHeartbeatRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      {
        name: "memberId",
        type: "string",
        versions: "0+",
        about: "Made by the client, kept for the life of the process.",
      },
      {
        name: "memberEpoch",
        type: "int32",
        versions: "0+",
        about: "0: join; -1: leave; -2: a static member leaving to rejoin; else the current epoch.",
      },
      {
        name: "endpointInformationEpoch",
        type: "int32",
        versions: "0+",
        about: "The latest endpoint information epoch the client received.",
      },
      {
        name: "instanceId",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Static membership; null if unchanged.",
      },
      {
        name: "rackId",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Null if unchanged.",
      },
      {
        name: "rebalanceTimeoutMs",
        type: "int32",
        versions: "0+",
        default: -1,
        about: "How long the broker waits for the member to revoke tasks; -1 if unchanged.",
      },
      {
        name: "topology",
        type: "struct",
        structName: "StreamsGroupHeartbeatRequestTopology",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Sent only when joining (epoch 0); null otherwise.",
        fields: [
          { name: "epoch", type: "int32", versions: "0+" },
          {
            name: "subtopologies",
            type: "[]struct",
            structName: "StreamsGroupHeartbeatRequestSubtopology",
            versions: "0+",
            fields: [
              { name: "subtopologyId", type: "string", versions: "0+" },
              { name: "sourceTopics", type: "[]string", versions: "0+" },
              { name: "sourceTopicRegex", type: "[]string", versions: "0+" },
              topicInfos(
                "stateChangelogTopics",
                "StreamsGroupHeartbeatRequestChangelogTopic",
                "StreamsGroupHeartbeatRequestChangelogConfig",
              ),
              { name: "repartitionSinkTopics", type: "[]string", versions: "0+" },
              topicInfos(
                "repartitionSourceTopics",
                "StreamsGroupHeartbeatRequestRepartitionTopic",
                "StreamsGroupHeartbeatRequestRepartitionConfig",
              ),
              {
                name: "copartitionGroups",
                type: "[]struct",
                structName: "StreamsGroupHeartbeatRequestCopartitionGroup",
                versions: "0+",
                about: "Indexes into the subtopology's topic arrays.",
                fields: [
                  { name: "sourceTopics", type: "[]int16", versions: "0+" },
                  { name: "sourceTopicRegex", type: "[]int16", versions: "0+" },
                  { name: "repartitionSourceTopics", type: "[]int16", versions: "0+" },
                ],
              },
            ],
          },
        ],
      },
      taskIds("activeTasks", "StreamsGroupHeartbeatRequestActiveTasks", "Null if unchanged."),
      taskIds("standbyTasks", "StreamsGroupHeartbeatRequestStandbyTasks", "Null if unchanged."),
      taskIds("warmupTasks", "StreamsGroupHeartbeatRequestWarmupTasks", "Null if unchanged."),
      {
        name: "processId",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "The Streams instance (one per process, many members); null if unchanged.",
      },
      endpoint("userEndpoint", "StreamsGroupHeartbeatRequestEndpoint", true),
      keyValues("clientTags", "StreamsGroupHeartbeatRequestClientTag", true),
      taskOffsets("taskOffsets", "StreamsGroupHeartbeatRequestTaskOffset"),
      taskOffsets("taskEndOffsets", "StreamsGroupHeartbeatRequestTaskEndOffset"),
      { name: "shutdownApplication", type: "bool", versions: "0+", default: false },
    ],
  },
  response: {
    name: "StreamsGroupHeartbeatResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "errorMessage",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
      },
      { name: "memberId", type: "string", versions: "0+" },
      { name: "memberEpoch", type: "int32", versions: "0+" },
      { name: "heartbeatIntervalMs", type: "int32", versions: "0+" },
      {
        name: "acceptableRecoveryLagLegacy",
        type: "int32",
        versions: "0",
        about: "Version 0's acceptable recovery lag.",
      },
      { name: "taskOffsetIntervalMs", type: "int32", versions: "0+" },
      {
        name: "acceptableRecoveryLag",
        type: "int64",
        versions: "1+",
        default: -1,
        about: "KIP-1331; -1: not supported by the broker.",
      },
      {
        name: "status",
        type: "[]struct",
        structName: "StreamsGroupHeartbeatResponseStatus",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        fields: [
          {
            name: "statusCode",
            type: "int8",
            versions: "0+",
            about: "0 STALE_TOPOLOGY, 1 MISSING_SOURCE_TOPICS, 2 INCORRECTLY_PARTITIONED_TOPICS, " +
              "3 MISSING_INTERNAL_TOPICS, 4 SHUTDOWN_APPLICATION, 5 ASSIGNMENT_DELAYED, " +
              "6 MISSING_CLIENT_TAGS (v1+).",
          },
          { name: "statusDetail", type: "string", versions: "0+" },
        ],
      },
      taskIds("activeTasks", "StreamsGroupHeartbeatResponseActiveTasks", "Null if unchanged."),
      taskIds("standbyTasks", "StreamsGroupHeartbeatResponseStandbyTasks", "Null if unchanged."),
      taskIds("warmupTasks", "StreamsGroupHeartbeatResponseWarmupTasks", "Null if unchanged."),
      {
        name: "topologyDescriptionRequired",
        type: "bool",
        versions: "1+",
        default: false,
        about: "KIP-1331: the broker wants the topology description.",
      },
      { name: "endpointInformationEpoch", type: "int32", versions: "0+" },
      {
        name: "partitionsByUserEndpoint",
        type: "[]struct",
        structName: "StreamsGroupHeartbeatResponseEndpointToPartitions",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "One entry per member with an endpoint (interactive queries); null if unchanged.",
        fields: [
          endpoint("userEndpoint", "StreamsGroupHeartbeatResponseEndpoint", false),
          {
            name: "activePartitions",
            type: "[]struct",
            structName: "StreamsGroupHeartbeatResponseActivePartitions",
            versions: "0+",
            fields: [
              { name: "topic", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
          {
            name: "standbyPartitions",
            type: "[]struct",
            structName: "StreamsGroupHeartbeatResponseStandbyPartitions",
            versions: "0+",
            fields: [
              { name: "topic", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
