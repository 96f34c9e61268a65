/**
 * ListGroups (key 16): the groups a coordinator knows. v3 is the first
 * flexible version; v4 filters by state (KIP-518); v5 filters by group type,
 * "classic" or "consumer" (KIP-848).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ListGroups",
  apiKey: 16,
  validVersions: "0-5",
  request: {
    name: "ListGroupsRequest",
    flexibleVersions: "3+",
    fields: [
      {
        name: "statesFilter",
        type: "[]string",
        versions: "4+",
        about: "Empty: no filter (KIP-518).",
      },
      {
        name: "typesFilter",
        type: "[]string",
        versions: "5+",
        about: "Empty: no filter (KIP-848).",
      },
    ],
  },
  response: {
    name: "ListGroupsResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "groups",
        type: "[]struct",
        structName: "ListGroupsResponseGroup",
        versions: "0+",
        fields: [
          { name: "groupId", type: "string", versions: "0+" },
          { name: "protocolType", type: "string", versions: "0+" },
          { name: "groupState", type: "string", versions: "4+" },
          { name: "groupType", type: "string", versions: "5+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
