/**
 * DescribeConfigs (key 32). Version 0 was dropped in Kafka 4.0. v1 adds config
 * sources and synonyms (KIP-226); v3 adds config types and documentation
 * (KIP-569); v4 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeConfigs",
  apiKey: 32,
  validVersions: "1-4",
  request: {
    name: "DescribeConfigsRequest",
    flexibleVersions: "4+",
    fields: [
      {
        name: "resources",
        type: "[]struct",
        structName: "DescribeConfigsRequestResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configurationKeys",
            type: "[]string",
            versions: "0+",
            nullableVersions: "0+",
            about: "Null asks for every key",
          },
        ],
      },
      { name: "includeSynonyms", type: "bool", versions: "1+", default: false },
      { name: "includeDocumentation", type: "bool", versions: "3+", default: false },
    ],
  },
  response: {
    name: "DescribeConfigsResponse",
    flexibleVersions: "4+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "DescribeConfigsResponseResult",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "configs",
            type: "[]struct",
            structName: "DescribeConfigsResponseConfig",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
              { name: "readOnly", type: "bool", versions: "0+" },
              {
                name: "configSource",
                type: "int8",
                versions: "1+",
                default: -1,
                about: "Where the value comes from (KIP-226)",
              },
              { name: "isSensitive", type: "bool", versions: "0+" },
              {
                name: "synonyms",
                type: "[]struct",
                structName: "DescribeConfigsResponseSynonym",
                versions: "1+",
                fields: [
                  { name: "name", type: "string", versions: "1+" },
                  { name: "value", type: "string", versions: "1+", nullableVersions: "0+" },
                  { name: "source", type: "int8", versions: "1+" },
                ],
              },
              {
                name: "configType",
                type: "int8",
                versions: "3+",
                default: 0,
                about: "The value's data type (KIP-569)",
              },
              {
                name: "documentation",
                type: "string",
                versions: "3+",
                nullableVersions: "0+",
                about: "KIP-569",
              },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
