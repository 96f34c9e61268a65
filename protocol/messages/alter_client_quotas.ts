/**
 * AlterClientQuotas (key 49, KIP-546): sets or removes quota values of
 * entities, all of an entity's changes at once. v1 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterClientQuotas",
  apiKey: 49,
  validVersions: "0-1",
  request: {
    name: "AlterClientQuotasRequest",
    flexibleVersions: "1+",
    fields: [
      {
        name: "entries",
        type: "[]struct",
        structName: "AlterClientQuotasRequestEntry",
        versions: "0+",
        fields: [
          {
            name: "entity",
            type: "[]struct",
            structName: "AlterClientQuotasRequestEntity",
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
            name: "ops",
            type: "[]struct",
            structName: "AlterClientQuotasRequestOp",
            versions: "0+",
            fields: [
              { name: "key", type: "string", versions: "0+" },
              {
                name: "value",
                type: "float64",
                versions: "0+",
                about: "Ignored when `remove` is set.",
              },
              { name: "remove", type: "bool", versions: "0+" },
            ],
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "0+" },
    ],
  },
  response: {
    name: "AlterClientQuotasResponse",
    flexibleVersions: "1+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "entries",
        type: "[]struct",
        structName: "AlterClientQuotasResponseEntry",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          {
            name: "entity",
            type: "[]struct",
            structName: "AlterClientQuotasResponseEntity",
            versions: "0+",
            fields: [
              { name: "entityType", type: "string", versions: "0+" },
              { name: "entityName", type: "string", versions: "0+", nullableVersions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
