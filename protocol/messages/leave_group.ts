/**
 * LeaveGroup (key 13): classic-protocol members leave a group. v0-2 name one
 * member by id; v3+ is batched with per-member results (KIP-345, used by admin
 * tools to remove static members); v4 is the first flexible version; v5 adds a
 * per-member reason (KIP-800).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "LeaveGroup",
  apiKey: 13,
  validVersions: "0-5",
  request: {
    name: "LeaveGroupRequest",
    flexibleVersions: "4+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "memberId", type: "string", versions: "0-2", about: "The only leaver, v0-2." },
      {
        name: "members",
        type: "[]struct",
        structName: "LeaveGroupRequestMember",
        versions: "3+",
        fields: [
          { name: "memberId", type: "string", versions: "3+" },
          {
            name: "groupInstanceId",
            type: "string",
            versions: "3+",
            nullableVersions: "3+",
            default: null,
          },
          {
            name: "reason",
            type: "string",
            versions: "5+",
            nullableVersions: "5+",
            default: null,
            about: "KIP-800.",
          },
        ],
      },
    ],
  },
  response: {
    name: "LeaveGroupResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "members",
        type: "[]struct",
        structName: "LeaveGroupResponseMember",
        versions: "3+",
        fields: [
          { name: "memberId", type: "string", versions: "3+" },
          { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+" },
          { name: "errorCode", type: "int16", versions: "3+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
