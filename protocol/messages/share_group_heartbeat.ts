/**
 * ShareGroupHeartbeat (key 76): the one membership request of share groups
 * (KIP-932), used to join (epoch 0), heartbeat, change the subscription and
 * leave (epoch -1). The client makes its member id. Version 0 was the
 * early-access version, removed in Kafka 4.1; version 1 is the first final one.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ShareGroupHeartbeat",
  apiKey: 76,
  validVersions: "1",
  request: {
    name: "ShareGroupHeartbeatRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "memberEpoch",
        type: "int32",
        versions: "0+",
        about: "0: join; -1: leave; else the member's current epoch.",
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
        name: "subscribedTopicNames",
        type: "[]string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Null if unchanged.",
      },
    ],
  },
  response: {
    name: "ShareGroupHeartbeatResponse",
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
      {
        name: "memberId",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
      },
      { name: "memberEpoch", type: "int32", versions: "0+" },
      { name: "heartbeatIntervalMs", type: "int32", versions: "0+" },
      {
        name: "assignment",
        type: "struct",
        structName: "ShareGroupHeartbeatResponseAssignment",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
        about: "Null if the assignment did not change.",
        fields: [
          {
            name: "topicPartitions",
            type: "[]struct",
            structName: "ShareGroupHeartbeatResponseTopicPartitions",
            versions: "0+",
            fields: [
              { name: "topicId", type: "uuid", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
