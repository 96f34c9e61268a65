/**
 * IncrementalAlterConfigs (key 44, KIP-339): set, delete, append to or subtract
 * from single config keys. v1 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "IncrementalAlterConfigs",
  apiKey: 44,
  validVersions: "0-1",
  request: {
    name: "IncrementalAlterConfigsRequest",
    flexibleVersions: "1+",
    fields: [
      {
        name: "resources",
        type: "[]struct",
        structName: "IncrementalAlterConfigsRequestResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configs",
            type: "[]struct",
            structName: "IncrementalAlterConfigsRequestConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              {
                name: "configOperation",
                type: "int8",
                versions: "0+",
                about: "0 = set, 1 = delete, 2 = append, 3 = subtract",
              },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "IncrementalAlterConfigsResponse",
    flexibleVersions: "1+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "responses",
        type: "[]struct",
        structName: "IncrementalAlterConfigsResponseResource",
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
