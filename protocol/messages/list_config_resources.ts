/**
 * ListConfigResources (key 74). Version 0 was ListClientMetricsResources and
 * lists client-metrics resources only; version 1 (KIP-1142) takes the resource
 * types wanted (none given: every type the broker keeps configs for) and says
 * each resource's type.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ListConfigResources",
  apiKey: 74,
  validVersions: "0-1",
  request: {
    name: "ListConfigResourcesRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "resourceTypes",
        type: "[]int8",
        versions: "1+",
        about: "Config resource types to list; empty: all of them.",
      },
    ],
  },
  response: {
    name: "ListConfigResourcesResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "configResources",
        type: "[]struct",
        structName: "ListConfigResourcesResponseResource",
        versions: "0+",
        fields: [
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "resourceType",
            type: "int8",
            versions: "1+",
            default: 16,
            about: "Absent from v0, where every resource is a client-metrics one (16).",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
