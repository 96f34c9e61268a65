/**
 * ConsumerGroupDescribe (key 69): describes KIP-848 consumer-protocol groups.
 * Always flexible. v1 adds each member's type (KIP-1099).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ConsumerGroupDescribe",
  apiKey: 69,
  validVersions: "0-1",
  request: {
    name: "ConsumerGroupDescribeRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupIds", type: "[]string", versions: "0+" },
      { name: "includeAuthorizedOperations", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "ConsumerGroupDescribeResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "ConsumerGroupDescribeResponseGroup",
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
          { name: "assignorName", type: "string", versions: "0+" },
          {
            name: "members",
            type: "[]struct",
            structName: "ConsumerGroupDescribeResponseMember",
            versions: "0+",
            fields: [
              { name: "memberId", type: "string", versions: "0+" },
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
              { name: "memberEpoch", type: "int32", versions: "0+" },
              { name: "clientId", type: "string", versions: "0+" },
              { name: "clientHost", type: "string", versions: "0+" },
              { name: "subscribedTopicNames", type: "[]string", versions: "0+" },
              {
                name: "subscribedTopicRegex",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
                default: null,
              },
              {
                name: "assignment",
                type: "struct",
                structName: "ConsumerGroupDescribeResponseAssignment",
                versions: "0+",
                about: "Current assignment.",
                fields: [
                  {
                    name: "topicPartitions",
                    type: "[]struct",
                    structName: "ConsumerGroupDescribeResponseTopicPartitions",
                    versions: "0+",
                    fields: [
                      { name: "topicId", type: "uuid", versions: "0+" },
                      { name: "topicName", type: "string", versions: "0+" },
                      { name: "partitions", type: "[]int32", versions: "0+" },
                    ],
                  },
                ],
              },
              {
                name: "targetAssignment",
                type: "struct",
                structName: "ConsumerGroupDescribeResponseTargetAssignment",
                versions: "0+",
                about: "Assignment the member is converging to; same shape as `assignment`.",
                fields: [
                  {
                    name: "topicPartitions",
                    type: "[]struct",
                    structName: "ConsumerGroupDescribeResponseTargetTopicPartitions",
                    versions: "0+",
                    fields: [
                      { name: "topicId", type: "uuid", versions: "0+" },
                      { name: "topicName", type: "string", versions: "0+" },
                      { name: "partitions", type: "[]int32", versions: "0+" },
                    ],
                  },
                ],
              },
              {
                name: "memberType",
                type: "int8",
                versions: "1+",
                default: -1,
                about: "-1: unknown, 0: classic, 1: consumer (KIP-1099).",
              },
            ],
          },
          {
            name: "authorizedOperations",
            type: "int32",
            versions: "0+",
            default: -2147483648,
            about: "Bitfield of ACL operations; INT32_MIN when not requested.",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
