/**
 * UnregisterController (key 94): drops a controller's registration from the
 * cluster metadata, for a controller that is gone for good.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "UnregisterController",
  apiKey: 94,
  validVersions: "0",
  request: {
    name: "UnregisterControllerRequest",
    flexibleVersions: "0+",
    fields: [{ name: "controllerId", type: "int32", versions: "0+" }],
  },
  response: {
    name: "UnregisterControllerResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    ],
  },
} satisfies ApiDef;
