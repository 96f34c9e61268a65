/**
 * AlterConfigs (key 33): replace the whole config set of each resource (the
 * legacy, non-incremental form). v2 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterConfigs",
  apiKey: 33,
  validVersions: "0-2",
  request: {
    name: "AlterConfigsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "resources",
        type: "[]struct",
        structName: "AlterConfigsRequestResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configs",
            type: "[]struct",
            structName: "AlterConfigsRequestConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "AlterConfigsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "responses",
        type: "[]struct",
        structName: "AlterConfigsResponseResource",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
