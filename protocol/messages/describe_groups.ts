/**
 * DescribeGroups (key 15): state, protocol and members of groups. v3 can
 * return authorized operations; v4 adds members' static instance ids; v5 is the
 * first flexible version; v6 answers unknown groups with GROUP_ID_NOT_FOUND and
 * adds an error message (KIP-1043).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeGroups",
  apiKey: 15,
  validVersions: "0-6",
  request: {
    name: "DescribeGroupsRequest",
    flexibleVersions: "5+",
    fields: [
      { name: "groups", type: "[]string", versions: "0+" },
      { name: "includeAuthorizedOperations", type: "bool", versions: "3+" },
    ],
  },
  response: {
    name: "DescribeGroupsResponse",
    flexibleVersions: "5+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "DescribeGroupsResponseGroup",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          {
            name: "errorMessage",
            type: "string",
            versions: "6+",
            nullableVersions: "6+",
            default: null,
            about: "KIP-1043.",
          },
          { name: "groupId", type: "string", versions: "0+" },
          {
            name: "groupState",
            type: "string",
            versions: "0+",
            about: 'E.g. "Stable", "Empty", "Dead"; may be empty.',
          },
          { name: "protocolType", type: "string", versions: "0+" },
          {
            name: "protocolData",
            type: "string",
            versions: "0+",
            about: "The chosen protocol (assignor) name; filled when Stable.",
          },
          {
            name: "members",
            type: "[]struct",
            structName: "DescribeGroupsResponseMember",
            versions: "0+",
            fields: [
              { name: "memberId", type: "string", versions: "0+" },
              {
                name: "groupInstanceId",
                type: "string",
                versions: "4+",
                nullableVersions: "4+",
                default: null,
              },
              { name: "clientId", type: "string", versions: "0+" },
              { name: "clientHost", type: "string", versions: "0+" },
              { name: "memberMetadata", type: "bytes", versions: "0+" },
              { name: "memberAssignment", type: "bytes", versions: "0+" },
            ],
          },
          {
            name: "authorizedOperations",
            type: "int32",
            versions: "3+",
            default: -2147483648,
            about: "Bitfield of ACL operations; INT32_MIN when not requested.",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
