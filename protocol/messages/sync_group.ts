/**
 * SyncGroup (key 14): the leader hands in the assignment and every member
 * receives its own. v3 adds the static instance id (KIP-345); v4 is the first
 * flexible version; v5 carries protocol type and name both ways (KIP-559).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "SyncGroup",
  apiKey: 14,
  validVersions: "0-5",
  request: {
    name: "SyncGroupRequest",
    flexibleVersions: "4+",
    fields: [
      { name: "groupId", type: "string", versions: "0+" },
      { name: "generationId", type: "int32", versions: "0+" },
      { name: "memberId", type: "string", versions: "0+" },
      {
        name: "groupInstanceId",
        type: "string",
        versions: "3+",
        nullableVersions: "3+",
        default: null,
        about: "KIP-345 static membership.",
      },
      {
        name: "protocolType",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
        about: "Checked against the group's when set (KIP-559).",
      },
      {
        name: "protocolName",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
        about: "Checked against the group's when set (KIP-559).",
      },
      {
        name: "assignments",
        type: "[]struct",
        structName: "SyncGroupRequestAssignment",
        versions: "0+",
        about: "Sent by the leader only; empty from followers.",
        fields: [
          { name: "memberId", type: "string", versions: "0+" },
          { name: "assignment", type: "bytes", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "SyncGroupResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "protocolType",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
      },
      {
        name: "protocolName",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
      },
      { name: "assignment", type: "bytes", versions: "0+" },
    ],
  },
} satisfies ApiDef;
