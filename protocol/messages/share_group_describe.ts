/**
 * ShareGroupDescribe (key 77): the members, epochs and assignments of share
 * groups (KIP-932). Version 1 is the first final version (Kafka 4.1).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ShareGroupDescribe",
  apiKey: 77,
  validVersions: "1",
  request: {
    name: "ShareGroupDescribeRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "groupIds", type: "[]string", versions: "0+" },
      { name: "includeAuthorizedOperations", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "ShareGroupDescribeResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "ShareGroupDescribeResponseGroup",
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
            structName: "ShareGroupDescribeResponseMember",
            versions: "0+",
            fields: [
              { name: "memberId", type: "string", versions: "0+" },
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
                name: "assignment",
                type: "struct",
                structName: "ShareGroupDescribeResponseAssignment",
                versions: "0+",
                fields: [
                  {
                    name: "topicPartitions",
                    type: "[]struct",
                    structName: "ShareGroupDescribeResponseTopicPartitions",
                    versions: "0+",
                    fields: [
                      { name: "topicId", type: "uuid", versions: "0+" },
                      { name: "topicName", type: "string", versions: "0+" },
                      { name: "partitions", type: "[]int32", versions: "0+" },
                    ],
                  },
                ],
              },
            ],
          },
          {
            name: "authorizedOperations",
            type: "int32",
            versions: "0+",
            default: -2147483648,
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
