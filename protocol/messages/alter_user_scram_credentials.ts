/**
 * AlterUserScramCredentials (key 51, KIP-554): deletes SCRAM credentials and
 * upserts others from a client-side salt and salted password (the password
 * itself never travels); one result per user named.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterUserScramCredentials",
  apiKey: 51,
  validVersions: "0",
  request: {
    name: "AlterUserScramCredentialsRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "deletions",
        type: "[]struct",
        structName: "ScramCredentialDeletion",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "mechanism", type: "int8", versions: "0+" },
        ],
      },
      {
        name: "upsertions",
        type: "[]struct",
        structName: "ScramCredentialUpsertion",
        versions: "0+",
        fields: [
          { name: "name", type: "string", versions: "0+" },
          { name: "mechanism", type: "int8", versions: "0+" },
          { name: "iterations", type: "int32", versions: "0+" },
          { name: "salt", type: "bytes", versions: "0+" },
          { name: "saltedPassword", type: "bytes", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "AlterUserScramCredentialsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "AlterUserScramCredentialsResult",
        versions: "0+",
        fields: [
          { name: "user", type: "string", versions: "0+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        ],
      },
    ],
  },
} satisfies ApiDef;
