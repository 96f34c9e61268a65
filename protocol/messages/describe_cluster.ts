/**
 * DescribeCluster (key 60, KIP-700): brokers, controller and cluster ID. Flexible
 * in every version. v1 adds the endpoint type (KIP-919); v2 can list fenced
 * brokers (KIP-1073).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeCluster",
  apiKey: 60,
  validVersions: "0-2",
  request: {
    name: "DescribeClusterRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "includeClusterAuthorizedOperations", type: "bool", versions: "0+" },
      {
        name: "endpointType",
        type: "int8",
        versions: "1+",
        default: 1,
        about: "1 = brokers, 2 = controllers (KIP-919)",
      },
      {
        name: "includeFencedBrokers",
        type: "bool",
        versions: "2+",
        default: false,
        about: "KIP-1073",
      },
    ],
  },
  response: {
    name: "DescribeClusterResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "errorMessage",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        default: null,
      },
      {
        name: "endpointType",
        type: "int8",
        versions: "1+",
        default: 1,
        about: "Echoes the endpoint type described (KIP-919)",
      },
      { name: "clusterId", type: "string", versions: "0+" },
      { name: "controllerId", type: "int32", versions: "0+", default: -1 },
      {
        name: "brokers",
        type: "[]struct",
        structName: "DescribeClusterResponseBroker",
        versions: "0+",
        fields: [
          { name: "brokerId", type: "int32", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "port", type: "int32", versions: "0+" },
          {
            name: "rack",
            type: "string",
            versions: "0+",
            nullableVersions: "0+",
            default: null,
          },
          { name: "isFenced", type: "bool", versions: "2+", about: "KIP-1073" },
        ],
      },
      {
        name: "clusterAuthorizedOperations",
        type: "int32",
        versions: "0+",
        default: -2147483648,
        about: "Bit field of allowed operations; INT32_MIN when not requested",
      },
    ],
  },
} satisfies ApiDef;
