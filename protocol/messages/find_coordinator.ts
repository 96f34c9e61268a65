/**
 * FindCoordinator (key 10): which broker coordinates a group or transactional
 * id. v3 is the first flexible version; v4 batches several keys in one request
 * (KIP-699) and moves every per-key result into `coordinators`. v5 (KIP-890)
 * and v6 (share groups, KIP-932) change no fields.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "FindCoordinator",
  apiKey: 10,
  validVersions: "0-6",
  request: {
    name: "FindCoordinatorRequest",
    flexibleVersions: "3+",
    fields: [
      { name: "key", type: "string", versions: "0-3", about: "The single key asked about (v0-3)." },
      {
        name: "keyType",
        type: "int8",
        versions: "1+",
        default: 0,
        about: "0: group, 1: transaction, 2: share group (v6+).",
      },
      {
        name: "coordinatorKeys",
        type: "[]string",
        versions: "4+",
        about: "Batched keys (KIP-699 batched FindCoordinator).",
      },
    ],
  },
  response: {
    name: "FindCoordinatorResponse",
    flexibleVersions: "3+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "1+" },
      { name: "errorCode", type: "int16", versions: "0-3" },
      { name: "errorMessage", type: "string", versions: "1-3", nullableVersions: "1-3" },
      { name: "nodeId", type: "int32", versions: "0-3" },
      { name: "host", type: "string", versions: "0-3" },
      { name: "port", type: "int32", versions: "0-3" },
      {
        name: "coordinators",
        type: "[]struct",
        structName: "FindCoordinatorResponseCoordinator",
        versions: "4+",
        about: "One result per requested key (KIP-699).",
        fields: [
          { name: "key", type: "string", versions: "4+" },
          { name: "nodeId", type: "int32", versions: "4+" },
          { name: "host", type: "string", versions: "4+" },
          { name: "port", type: "int32", versions: "4+" },
          { name: "errorCode", type: "int16", versions: "4+" },
          { name: "errorMessage", type: "string", versions: "4+", nullableVersions: "4+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
