/**
 * CreateAcls (key 30, KIP-11, KIP-140). Version 0 was dropped in Kafka 4.0
 * (KIP-896); v1 adds the resource pattern type (KIP-290 prefixed ACLs); v2 is
 * flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "CreateAcls",
  apiKey: 30,
  validVersions: "1-3",
  request: {
    name: "CreateAclsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "creations",
        type: "[]struct",
        structName: "AclCreation",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          {
            name: "resourcePatternType",
            type: "int8",
            versions: "1+",
            default: 3,
            about: "LITERAL 3, PREFIXED 4 (KIP-290)",
          },
          { name: "principal", type: "string", versions: "0+" },
          { name: "host", type: "string", versions: "0+" },
          { name: "operation", type: "int8", versions: "0+" },
          { name: "permissionType", type: "int8", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "CreateAclsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "AclCreationResult",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
