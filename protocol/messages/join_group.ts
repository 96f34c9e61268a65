/**
 * JoinGroup (key 11): a classic-protocol member joins (or rejoins) a group.
 * From v4 a member joining with an empty member id is answered with
 * MEMBER_ID_REQUIRED and the id it must rejoin with (KIP-394); v5 adds static
 * membership (KIP-345); v6 is the first flexible version; v7 echoes the
 * protocol type (KIP-559); v8 adds a reason (KIP-800); v9 adds skipAssignment.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "JoinGroup",
  apiKey: 11,
  validVersions: "0-9",
  request: {
    name: "JoinGroupRequest",
    flexibleVersions: "6+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "sessionTimeoutMs", type: "int32", versions: "0+" },
      {
        name: "rebalanceTimeoutMs",
        type: "int32",
        versions: "1+",
        default: -1,
        about: "Absent in v0: use sessionTimeoutMs instead.",
      },
      {
        name: "memberId",
        type: "string",
        versions: "0+",
        about: "Empty on first join; v4+ gets MEMBER_ID_REQUIRED (KIP-394).",
      },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
        about: "Static member id, KIP-345 static membership.",
      },
      { name: "protocolType", type: "string", versions: "0+", about: 'E.g. "consumer".' },
      {
        name: "protocols",
        type: "[]struct",
        structName: "JoinGroupRequestProtocol",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+", about: "Assignor name." },
          { name: "metadata", type: "bytes", versions: "0+" },
        ],
      },
      {
        name: "reason",
        type: "string",
        versions: "8+",
        nullableVersions: "8+",
        default: null,
        about: "KIP-800.",
      },
    ],
  },
  response: {
    name: "JoinGroupResponse",
    flexibleVersions: "6+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "2+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "generationId", type: "int32", versions: "0+", default: -1 },
      {
        name: "protocolType",
        type: "string",
        versions: "7+",
        nullableVersions: "7+",
        default: null,
        about: "KIP-559.",
      },
      { name: "protocolName", type: "string", versions: "0+", nullableVersions: "7+" },
      { name: "leader", type: "string", versions: "0+", about: "Member id of the leader." },
      {
        name: "skipAssignment",
        type: "bool",
        versions: "9+",
        default: false,
        about: "Tells the leader not to run the assignor.",
      },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "members",
        type: "[]struct",
        structName: "JoinGroupResponseMember",
        versions: "0+",
        about: "Filled only for the leader.",
        fields: [
          { name: "memberId", type: "string", versions: "0+" },
          {
            name: "groupInstanceId",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: null,
          },
          { name: "metadata", type: "bytes", versions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
