/** DeleteGroups (key 42): deletes empty groups and their offsets. v2 is the first flexible version; v3 adds an error message per group. */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteGroups",
  apiKey: 42,
  validVersions: "0-3",
  request: {
    name: "DeleteGroupsRequest",
    flexibleVersions: "2+",
    fields: [
      { name: "groupsNames", type: "[]string", versions: "0+" },
    ],
  },
  response: {
    name: "DeleteGroupsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "DeleteGroupsResponseResult",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          {
            name: "errorCode",
            type: "int16",
            versions: "0+",
            about: "E.g. NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND.",
          },
          {
            name: "errorMessage",
            type: "string",
            versions: "3+",
            nullableVersions: "3+",
            default: null,
            about: "Why the group could not be deleted; null on success.",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
