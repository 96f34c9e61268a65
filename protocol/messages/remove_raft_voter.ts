/** RemoveRaftVoter (key 81, KIP-853): removes a controller from the KRaft voter set. */
import type { ApiDef } from "../schema.ts";

export default {
  name: "RemoveRaftVoter",
  apiKey: 81,
  validVersions: "0",
  request: {
    name: "RemoveRaftVoterRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "clusterId", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "voterId", type: "int32", versions: "0+" },
      { name: "voterDirectoryId", type: "uuid", versions: "0+" },
    ],
  },
  response: {
    name: "RemoveRaftVoterResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    ],
  },
} satisfies ApiDef;
