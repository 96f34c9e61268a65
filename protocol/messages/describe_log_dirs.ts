/**
 * DescribeLogDirs (key 35): the log directories of the broker and the size of
 * each partition in them (KIP-113). Version 1 is Kafka 4's baseline, 2 is the
 * first flexible one, 3 adds a top-level error code, 4 the directories' total
 * and usable bytes (KIP-827) and 5 whether a directory is cordoned (KIP-1066).
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "DescribeLogDirs",
  apiKey: 35,
  validVersions: "1-5",
  request: {
    name: "DescribeLogDirsRequest",
    flexibleVersions: "2+",
    fields: [
      {
        name: "topics",
        type: "[]struct",
        structName: "DescribeLogDirsRequestTopic",
        versions: "0+",
        nullableVersions: "0+",
        about: "Null: every topic.",
        fields: [
          { name: "topic", type: "string", versions: "0+" },
          { name: "partitions", type: "[]int32", versions: "0+" },
        ],
      },
    ],
  },
  response: {
    name: "DescribeLogDirsResponse",
    flexibleVersions: "2+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "3+" },
      {
        name: "results",
        type: "[]struct",
        structName: "DescribeLogDirsResponseDir",
        versions: "0+",
        fields: [
          { name: "errorCode", type: "int16", versions: "0+" },
          { name: "logDir", type: "string", versions: "0+" },
          {
            name: "topics",
            type: "[]struct",
            structName: "DescribeLogDirsResponseTopic",
            versions: "0+",
            fields: [
              { name: "name", type: "string", versions: "0+" },
              {
                name: "partitions",
                type: "[]struct",
                structName: "DescribeLogDirsResponsePartition",
                versions: "0+",
                fields: [
                  { name: "partitionIndex", type: "int32", versions: "0+" },
                  {
                    name: "partitionSize",
                    type: "int64",
                    versions: "0+",
                    about: "Bytes of the partition's log.",
                  },
                  {
                    name: "offsetLag",
                    type: "int64",
                    versions: "0+",
                    about:
                      "How far the log end is behind the high watermark (or, for a future log, the current one).",
                  },
                  {
                    name: "isFutureKey",
                    type: "bool",
                    versions: "0+",
                    about: "A log being moved here by AlterReplicaLogDirs.",
                  },
                ],
              },
            ],
          },
          {
            name: "totalBytes",
            type: "int64",
            versions: "4+",
            default: -1,
            about: "Size of the directory's volume; -1 when unknown (KIP-827).",
          },
          {
            name: "usableBytes",
            type: "int64",
            versions: "4+",
            default: -1,
            about: "Free bytes of the directory's volume; -1 when unknown (KIP-827).",
          },
          {
            name: "isCordoned",
            type: "bool",
            versions: "5+",
            default: false,
            about: "No new partitions are placed here (KIP-1066).",
          },
        ],
      },
    ],
  },
} satisfies ApiDef;
