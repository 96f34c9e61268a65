/** DeleteGroups (key 42): deletes empty groups and their offsets. v2 is the first flexible version. */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DeleteGroups",
  apiKey: 42,
  validVersions: "0-2",
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
        ],
      },
    ],
  },
} satisfies ApiDef;
