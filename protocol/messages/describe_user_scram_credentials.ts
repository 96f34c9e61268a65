/**
 * DescribeUserScramCredentials (key 50, KIP-554): the SCRAM mechanisms and
 * iteration counts of some users (null or empty: every user), never the
 * salts or keys.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeUserScramCredentials",
  apiKey: 50,
  validVersions: "0",
  request: {
    name: "DescribeUserScramCredentialsRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "users",
        type: "[]struct",
        structName: "DescribeUserScramCredentialsUserName",
        versions: "0+",
        nullableVersions: "0+",
        fields: [{ name: "name", type: "string", versions: "0+" }],
      },
    ],
  },
  response: {
    name: "DescribeUserScramCredentialsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "DescribeUserScramCredentialsResult",
        versions: "0+",
        fields: [
          { name: "user", type: "string", versions: "0+" },
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
          {
            name: "credentialInfos",
            type: "[]struct",
            structName: "DescribeUserScramCredentialsCredentialInfo",
            versions: "0+",
            fields: [
              {
                name: "mechanism",
                type: "int8",
                versions: "0+",
                about: "1 SCRAM-SHA-256, 2 SCRAM-SHA-512",
              },
              { name: "iterations", type: "int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
