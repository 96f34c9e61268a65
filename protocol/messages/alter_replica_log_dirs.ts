/**
 * AlterReplicaLogDirs (key 34): moves replicas between a broker's log
 * directories (KIP-113). Version 1 is Kafka 4's baseline, 2 the first flexible
 * one.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "AlterReplicaLogDirs",
  apiKey: 34,
  validVersions: "1-2",
  request: {
    name: "AlterReplicaLogDirsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "dirs",
        type: "[]struct",
        structName: "AlterReplicaLogDirsRequestDir",
        versions: "0+",
        about: "Each destination directory and the replicas to move there.",
        fields: [
          {
            name: "path",
            type: "string",
            versions: "0+",
            about: "Absolute path of the directory.",
          },
          {
            name: "topics",
            type: "[]struct",
            structName: "AlterReplicaLogDirsRequestTopic",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              { name: "partitions", type: "[]int32", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
  response: {
    name: "AlterReplicaLogDirsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      {
        name: "results",
        type: "[]struct",
        structName: "AlterReplicaLogDirsResponseTopic",
        versions: "0+",
        fields: [
          { name: "topicName", type: "string", versions: "0+" },
          {
            name: "partitions",
            type: "[]struct",
            structName: "AlterReplicaLogDirsResponsePartition",
            versions: "0+",
            fields: [
              { name: "partitionIndex", type: "int32", versions: "0+" },
              { name: "errorCode", type: "int16", versions: "0+" },
            ],
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
