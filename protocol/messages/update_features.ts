/**
 * UpdateFeatures (key 57, KIP-584): raises or lowers the cluster's finalized
 * feature levels. Flexible in every version. v1 replaces the allow-downgrade
 * flag with an upgrade type and adds validate-only (KIP-778); v2 drops the
 * per-feature results, leaving only the top-level error.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "UpdateFeatures",
  apiKey: 57,
  validVersions: "0-2",
  request: {
    name: "UpdateFeaturesRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
      {
        name: "featureUpdates",
        type: "[]struct",
        structName: "UpdateFeaturesRequestFeature",
        versions: "0+",
        fields: [
          { name: "feature", type: "string", versions: "0+" },
          {
            name: "maxVersionLevel",
            type: "int16",
            versions: "0+",
            about: "The level wanted; below 1 asks to remove the feature",
          },
          { name: "allowDowngrade", type: "bool", versions: "0", about: "v0 only" },
          {
            name: "upgradeType",
            type: "int8",
            versions: "1+",
            default: 1,
            about: "1 = upgrade, 2 = safe downgrade, 3 = unsafe downgrade (KIP-778)",
          },
        ],
      },
      { name: "validateOnly", type: "bool", versions: "1+", default: false },
    ],
  },
  response: {
    name: "UpdateFeaturesResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "UpdateFeaturesResponseResult",
        versions: "0-1",
        about: "One per feature asked for; gone from v2",
        fields: [
          { name: "feature", type: "string", versions: "0+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
