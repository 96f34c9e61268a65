/**
 * ElectLeaders (key 43): asks for preferred (KIP-460) or unclean leader
 * elections. Version 1 adds the election type and a top-level error code, 2 is
 * the first flexible version.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ElectLeaders",
  apiKey: 43,
  validVersions: "0-2",
  request: {
    name: "ElectLeadersRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "electionType",
        type: "int8",
        versions: "1+",
        default: 0,
        about: "0 = preferred, 1 = unclean (KIP-460); v0 is always preferred.",
      },
      {
        name: "topicPartitions",
        type: "[]struct",
        structName: "ElectLeadersRequestTopic",
        versions: "0+",
        nullableVersions: "0+",
        about: "Null: every partition.",
        fields: [
          { name: "topic", type: "string", versions: "0+" },
          { name: "partitions", type: "[]int32", versions: "0+" },
        ],
      },
      { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
    ],
  },
  response: {
    name: "ElectLeadersResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "1+" },
      {
        name: "replicaElectionResults",
        type: "[]struct",
        structName: "ElectLeadersResponseTopic",
        versions: "0+",
        fields: [
          { name: "topic", type: "string", versions: "0+" },
          {
            name: "partitionResult",
            type: "[]struct",
            structName: "ElectLeadersResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionId", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
