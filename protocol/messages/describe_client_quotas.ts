/**
 * DescribeClientQuotas (key 48, KIP-546): the quotas of the entities (user,
 * client id, ip, or a user and client id pair) that match a filter. v1 is
 * flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeClientQuotas",
  apiKey: 48,
  validVersions: "0-1",
  request: {
    name: "DescribeClientQuotasRequest",
    flexibleVersions: "1+",
    fields: [
      {
        name: "components",
        type: "[]struct",
        structName: "DescribeClientQuotasRequestComponent",
        versions: "0+",
        fields: [
          { name: "entityType", type: "string", versions: "0+" },
          {
            name: "matchType",
            type: "int8",
            versions: "0+",
            about: "0: the name in `match`; 1: the default entity; 2: any named entity.",
          },
          { name: "match", type: "string", versions: "0+", nullableVersions: "0+" },
        ],
      },
      {
        name: "strict",
        type: "bool",
        versions: "0+",
        about: "Leave out entities that have types the components do not name.",
      },
    ],
  },
  response: {
    name: "DescribeClientQuotasResponse",
    flexibleVersions: "1+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      {
        name: "entries",
        type: "[]struct",
        structName: "DescribeClientQuotasResponseEntry",
        versions: "0+",
        nullableVersions: "0+",
        fields: [
          {
            name: "entity",
            type: "[]struct",
            structName: "DescribeClientQuotasResponseEntity",
            versions: "0+",
            fields: [
              { name: "entityType", type: "string", versions: "0+" },
              {
                name: "entityName",
                type: "string",
                versions: "0+",
                nullableVersions: "0+",
                about: "Null: the default entity of the type.",
              },
            ],
          },
          {
            name: "values",
            type: "[]struct",
            structName: "DescribeClientQuotasResponseValue",
            versions: "0+",
            fields: [
              { name: "key", type: "string", versions: "0+" },
              { name: "value", type: "float64", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
