/**
 * Heartbeat (key 12): a classic-protocol member keeps its session alive and
 * learns of rebalances (REBALANCE_IN_PROGRESS). v3 adds the static instance id
 * (KIP-345); v4 is the first flexible version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "Heartbeat",
  apiKey: 12,
  validVersions: "0-4",
  request: {
    name: "HeartbeatRequest",
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
    ],
  },
  response: {
    name: "HeartbeatResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
    ],
  },
} satisfies ApiDef;
