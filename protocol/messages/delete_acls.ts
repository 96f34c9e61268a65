/**
 * DeleteAcls (key 31, KIP-11, KIP-140): removes the ACLs matching each filter
 * and returns them. Version 0 was dropped in Kafka 4.0 (KIP-896); v1 adds the
 * pattern type (KIP-290); v2 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteAcls",
  apiKey: 31,
  validVersions: "1-3",
  request: {
    name: "DeleteAclsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "filters",
        type: "[]struct",
        structName: "DeleteAclsFilter",
        versions: "0+",
        fields: [
          { name: "resourceTypeFilter", type: "int8", versions: "0+" },
          { name: "resourceNameFilter", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "patternTypeFilter", type: "int8", versions: "1+", default: 3 },
          { name: "principalFilter", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "hostFilter", type: "string", versions: "0+", nullableVersions: "0+" },
          { name: "operation", type: "int8", versions: "0+" },
          { name: "permissionType", type: "int8", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "DeleteAclsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "filterResults",
        type: "[]struct",
        structName: "DeleteAclsFilterResult",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          {
            name: "matchingAcls",
            type: "[]struct",
            structName: "DeleteAclsMatchingAcl",
            versions: "0+",
            fields: [
              { name: "errorCode", type: "int16", versions: "0+" },
              { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
              { name: "resourceType", type: "int8", versions: "0+" },
              { name: "resourceName", type: "string", versions: "0+" },
              { name: "patternType", type: "int8", versions: "1+", default: 3 },
              { name: "principal", type: "string", versions: "0+" },
              { name: "host", type: "string", versions: "0+" },
              { name: "operation", type: "int8", versions: "0+" },
              { name: "permissionType", type: "int8", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
