/**
 * StreamsGroupDescribe (key 89): streams groups (KIP-1071) with their epochs,
 * the topology the broker configured for them, and each member's process,
 * endpoint, current and target tasks. Version 1 asks for the topology
 * description (KIP-1331) and answers it with its status, and names the task
 * assignor (KIP-1357).
 */
import type { ApiDef, FieldDef } from "../schema.ts";

function keyValues(name: string, structName: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
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
    fields: [
      { name: "name", type: "string", versions: "0+" },
      { name: "partitions", type: "int32", versions: "0+" },
      { name: "replicationFactor", type: "int16", versions: "0+" },
      keyValues("topicConfigs", configStruct),
    ],
  };
}

function taskOffsets(name: string, structName: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    fields: [
      { name: "subtopologyId", type: "string", versions: "0+" },
      { name: "partition", type: "int32", versions: "0+" },
      { name: "offset", type: "int64", versions: "0+" },
    ],
  };
}

function tasks(name: string, structName: string): FieldDef {
  return {
    name,
    type: "[]struct",
    structName,
    versions: "0+",
    fields: [
      { name: "subtopologyId", type: "string", versions: "0+" },
      { name: "partitions", type: "[]int32", versions: "0+" },
    ],
  };
}

function assignment(name: string, prefix: string): FieldDef {
  return {
    name,
    type: "struct",
    structName: `${prefix}Assignment`,
    versions: "0+",
    fields: [
      tasks("activeTasks", `${prefix}ActiveTasks`),
      tasks("standbyTasks", `${prefix}StandbyTasks`),
      tasks("warmupTasks", `${prefix}WarmupTasks`),
    ],
  };
}

function node(name: string, structName: string): FieldDef {
  return {
    name,
    type: "struct",
    structName,
    versions: "1+",
    fields: [
      { name: "name", type: "string", versions: "1+" },
      { name: "nodeType", type: "int8", versions: "1+", about: "1 source, 2 processor, 3 sink." },
      { name: "sourceTopics", type: "[]string", versions: "1+" },
      {
        name: "sinkTopic",
        type: "string",
        versions: "1+",
        nullableVersions: "1+",
        default: null,
      },
      { name: "stores", type: "[]string", versions: "1+" },
      { name: "successors", type: "[]string", versions: "1+" },
    ],
  };
}

export default {
  name: "StreamsGroupDescribe",
  apiKey: 89,
  validVersions: "0-1",
  request: {
    name: "StreamsGroupDescribeRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupIds", type: "[]string", versions: "0+" },
      { name: "includeAuthorizedOperations", type: "bool", versions: "0+" },
      {
        name: "includeTopologyDescription",
        type: "bool",
        versions: "1+",
        default: false,
        about: "KIP-1331.",
      },
    ],
  },
  response: {
    name: "StreamsGroupDescribeResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "StreamsGroupDescribeResponseGroup",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "0+",
            nullableVersions: "0+",
            default: null,
          },
          { name: "groupId", type: "string", versions: "0+" },
          { name: "groupState", type: "string", versions: "0+" },
          { name: "groupEpoch", type: "int32", versions: "0+" },
          { name: "assignmentEpoch", type: "int32", versions: "0+" },
          {
            name: "topology",
            type: "struct",
            structName: "StreamsGroupDescribeResponseTopology",
            versions: "0+",
            nullableVersions: "0+",
            default: null,
            fields: [
              { name: "epoch", type: "int32", versions: "0+" },
              {
                name: "subtopologies",
                type: "[]struct",
                structName: "StreamsGroupDescribeResponseSubtopology",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
                about: "Null until the topology is configured (topics present and partitioned).",
                fields: [
                  { name: "subtopologyId", type: "string", versions: "0+" },
                  { name: "sourceTopics", type: "[]string", versions: "0+" },
                  { name: "repartitionSinkTopics", type: "[]string", versions: "0+" },
                  topicInfos(
                    "stateChangelogTopics",
                    "StreamsGroupDescribeResponseChangelogTopic",
                    "StreamsGroupDescribeResponseChangelogConfig",
                  ),
                  topicInfos(
                    "repartitionSourceTopics",
                    "StreamsGroupDescribeResponseRepartitionTopic",
                    "StreamsGroupDescribeResponseRepartitionConfig",
                  ),
                ],
              },
            ],
          },
          {
            name: "members",
            type: "[]struct",
            structName: "StreamsGroupDescribeResponseMember",
            versions: "0+",
            fields: [
              { name: "memberId", type: "string", versions: "0+" },
              { name: "memberEpoch", type: "int32", versions: "0+" },
              {
                name: "instanceId",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
              },
              {
                name: "rackId",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
              },
              { name: "clientId", type: "string", versions: "0+" },
              { name: "clientHost", type: "string", versions: "0+" },
              { name: "topologyEpoch", type: "int32", versions: "0+" },
              { name: "processId", type: "string", versions: "0+" },
              {
                name: "userEndpoint",
                type: "struct",
                structName: "StreamsGroupDescribeResponseEndpoint",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
                fields: [
                  { name: "host", type: "string", versions: "0+" },
                  { name: "port", type: "uint16", versions: "0+" },
                ],
              },
              keyValues("clientTags", "StreamsGroupDescribeResponseClientTag"),
              taskOffsets("taskOffsets", "StreamsGroupDescribeResponseTaskOffset"),
              taskOffsets("taskEndOffsets", "StreamsGroupDescribeResponseTaskEndOffset"),
              assignment("assignment", "StreamsGroupDescribeResponse"),
              assignment("targetAssignment", "StreamsGroupDescribeResponseTarget"),
              {
                name: "isClassic",
                type: "bool",
                versions: "0+",
                about: "A classic member not yet upgraded (never here).",
              },
            ],
          },
          {
            name: "authorizedOperations",
            type: "int32",
            versions: "0+",
            default: -2147483648,
          },
          {
            name: "topologyDescription",
            type: "struct",
            structName: "StreamsGroupDescribeResponseTopologyDescription",
            versions: "1+",
            nullableVersions: "1+",
            default: null,
            about: "KIP-1331: non-null only with status 3 (AVAILABLE).",
            fields: [
              {
                name: "subtopologies",
                type: "[]struct",
                structName: "StreamsGroupDescribeResponseDescribedSubtopology",
                versions: "1+",
                fields: [
                  { name: "subtopologyId", type: "string", versions: "1+" },
                  {
                    name: "nodes",
                    type: "[]struct",
                    structName: "StreamsGroupDescribeResponseNode",
                    versions: "1+",
                    fields: node("unused", "StreamsGroupDescribeResponseNodeUnused").fields!,
                  },
                ],
              },
              {
                name: "globalStores",
                type: "[]struct",
                structName: "StreamsGroupDescribeResponseGlobalStore",
                versions: "1+",
                fields: [
                  node("source", "StreamsGroupDescribeResponseGlobalStoreSource"),
                  node("processor", "StreamsGroupDescribeResponseGlobalStoreProcessor"),
                ],
              },
            ],
          },
          {
            name: "topologyDescriptionStatus",
            type: "int8",
            versions: "1+",
            default: 0,
            about: "0 NOT_REQUESTED, 1 NOT_STORED, 2 ERROR, 3 AVAILABLE.",
          },
          {
            name: "assignorName",
            type: "string",
            versions: "1+",
            nullableVersions: "1+",
            default: null,
            about: "KIP-1357: the assignor of the next assignment; null on a describe error.",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
