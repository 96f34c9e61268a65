/**
 * DescribeAcls (key 29, KIP-11, KIP-140): the ACLs matching one filter, grouped
 * by resource pattern. Version 0 was dropped in Kafka 4.0 (KIP-896); v1 adds
 * the pattern type filter (KIP-290); v2 is flexible.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeAcls",
  apiKey: 29,
  validVersions: "1-3",
  request: {
    name: "DescribeAclsRequest",
    flexibleVersions: "2+",
    fields: [
      { name: "resourceTypeFilter", type: "int8", versions: "0+" },
      {
        name: "resourceNameFilter",
        type: "string",
        versions: "0+",
        nullableVersions: "0+",
        about: "Null matches any name",
      },
      {
        name: "patternTypeFilter",
        type: "int8",
        versions: "1+",
        default: 3,
        about: "ANY 1, MATCH 2, LITERAL 3, PREFIXED 4 (KIP-290)",
      },
      { name: "principalFilter", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "hostFilter", type: "string", versions: "0+", nullableVersions: "0+" },
      { name: "operation", type: "int8", versions: "0+" },
      { name: "permissionType", type: "int8", versions: "0+" },
    ],
  },
  response: {
    name: "DescribeAclsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      {
        name: "resources",
        type: "[]struct",
        structName: "DescribeAclsResource",
        versions: "0+",
        fields: [
          { name: "resourceType", type: "int8", versions: "0+" },
          { name: "resourceName", type: "string", versions: "0+" },
          { name: "patternType", type: "int8", versions: "1+", default: 3 },
          {
            name: "acls",
            type: "[]struct",
            structName: "AclDescription",
            versions: "0+",
            fields: [
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
