/**
 * AddRaftVoter (key 80, KIP-853): adds a controller to the KRaft voter set.
 * Flexible in every version; v1 adds ack-when-committed.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AddRaftVoter",
  apiKey: 80,
  validVersions: "0-1",
  request: {
    name: "AddRaftVoterRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "clusterId", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "timeoutMs", type: "int32", versions: "0+" },
      { name: "voterId", type: "int32", versions: "0+" },
      { name: "voterDirectoryId", type: "uuid", versions: "0+" },
      {
        name: "listeners",
        type: "[]struct",
        structName: "AddRaftVoterRequestListener",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "port", type: "uint16", versions: "0+" },
        ],
      },
      {
        name: "ackWhenCommitted",
        type: "bool",
        versions: "1+",
        default: true,
        about: "False: answer once the leader has written the change, before it commits",
      },
    ],
  },
  response: {
    name: "AddRaftVoterResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    ],
  },
} satisfies ApiDef;
