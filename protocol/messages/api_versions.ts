/**
 * ApiVersions (key 18): which APIs and versions the broker serves. KIP-511
 * added the client name fields; v5 the cluster and node the client means to
 * reach (KIP-1242).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "ApiVersions",
  apiKey: 18,
  validVersions: "0-5",
  request: {
    name: "ApiVersionsRequest",
    flexibleVersions: "3+",
    fields: [
      { name: "clientSoftwareName", type: "string", versions: "3+", about: "KIP-511" },
      { name: "clientSoftwareVersion", type: "string", versions: "3+", about: "KIP-511" },
      {
        name: "clusterId",
        type: "string",
        versions: "5+",
        nullableVersions: "5+",
        default: null,
        about: "The cluster the client expects, or null (KIP-1242).",
      },
      {
        name: "nodeId",
        type: "int32",
        versions: "5+",
        default: -1,
        about: "The node the client expects, or -1 (KIP-1242).",
      },
    ],
  },
  response: {
    name: "ApiVersionsResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "errorCode", type: "int16", versions: "0+" },
      {
        name: "apiKeys",
        type: "[]struct",
        structName: "ApiVersion",
        versions: "0+",
        fields: [
          { name: "apiKey", type: "int16", versions: "0+" },
          { name: "minVersion", type: "int16", versions: "0+" },
          { name: "maxVersion", type: "int16", versions: "0+" },
        ],
      },
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      {
        name: "supportedFeatures",
        type: "[]struct",
        structName: "SupportedFeatureKey",
        versions: "3+",
        taggedVersions: "3+",
        tag: 0,
        fields: [
          { name: "name", type: "string", versions: "3+" },
          { name: "minVersion", type: "int16", versions: "3+" },
          { name: "maxVersion", type: "int16", versions: "3+" },
        ],
      },
      {
        name: "finalizedFeaturesEpoch",
        type: "int64",
        versions: "3+",
        taggedVersions: "3+",
        tag: 1,
        default: -1,
      },
      {
        name: "finalizedFeatures",
        type: "[]struct",
        structName: "FinalizedFeatureKey",
        versions: "3+",
        taggedVersions: "3+",
        tag: 2,
        fields: [
          { name: "name", type: "string", versions: "3+" },
          { name: "maxVersionLevel", type: "int16", versions: "3+" },
          { name: "minVersionLevel", type: "int16", versions: "3+" },
        ],
      },
      {
        name: "zkMigrationReady",
        type: "bool",
        versions: "3+",
        taggedVersions: "3+",
        tag: 3,
        default: false,
      },
    ],
  },
} satisfies ApiDef;
