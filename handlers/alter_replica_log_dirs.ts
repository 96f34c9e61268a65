/**
 * AlterReplicaLogDirs (key 34), versions 1-2 (KIP-113): moves replicas between
 * a broker's log directories. A broker here has one log "directory", the log
 * store (see {@link logDirName}), and nothing ever moves. As Kafka's
 * ReplicaManager answers: a path other than the broker's log directory
 * LOG_DIR_NOT_FOUND (checked first, for any topic); an unknown topic or
 * partition UNKNOWN_TOPIC_OR_PARTITION; a replica asked to go where it already
 * is NONE. Results are grouped by topic.
 */

import { isAbsolute, resolve } from "node:path";
import {
  ALTER_REPLICA_LOG_DIRS_API,
  type AlterReplicaLogDirsResponse,
  type AlterReplicaLogDirsResponsePartition,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicInfo } from "../stores/types.ts";
import { redactUrl } from "../stores/redact.ts";
import { FileLogStore } from "../stores/log/file.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { S3LogStore } from "../stores/log/s3.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/**
 * The name of the broker's one log directory: the log store's URL, with any
 * secret redacted (`file:///abs/dir`, `s3://bucket/prefix`, `memory:`). The
 * broker is not told the URL it was started with, so it is rebuilt from the
 * store itself.
 */
export function logDirName(ctx: RequestContext): string {
  const store = ctx.broker.log;
  if (store instanceof FileLogStore) {
    const dir = (store as unknown as { dir: string }).dir;
    return `file://${isAbsolute(dir) ? dir : resolve(dir)}`;
  }
  if (store instanceof S3LogStore) {
    const { bucket, prefix } = store.opts;
    return redactUrl(`s3://${bucket}/${prefix}`);
  }
  if (store instanceof MemoryLogStore) return "memory:";
  return `log:${store.constructor.name}`;
}

export const alterReplicaLogDirs = defineHandler({
  api: ALTER_REPLICA_LOG_DIRS_API,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx): Promise<AlterReplicaLogDirsResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        results: req.dirs.flatMap((d) => d.topics).map((t) => ({
          topicName: t.name,
          partitions: t.partitions.map((partitionIndex) => ({
            partitionIndex,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          })),
        })),
      };
    }
    const { broker } = ctx;
    const ourDir = logDirName(ctx);
    const byTopic = new Map<string, AlterReplicaLogDirsResponsePartition[]>();
    for (const dir of req.dirs) {
      for (const t of dir.topics) {
        let out = byTopic.get(t.name);
        if (!out) byTopic.set(t.name, out = []);
        let errorCode: number = ErrorCode.NONE;
        let topic: TopicInfo | null = null;
        if (dir.path !== ourDir) {
          errorCode = ErrorCode.LOG_DIR_NOT_FOUND;
        } else {
          try {
            topic = await broker.topics.byTopicName(t.name);
            if (!topic) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          } catch {
            broker.metrics.storeError("meta", "getTopic");
            errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          }
        }
        for (const p of t.partitions) {
          const known = topic === null || (p >= 0 && p < topic.partitions);
          out.push({
            partitionIndex: p,
            errorCode: known ? errorCode : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          });
        }
      }
    }
    return {
      throttleTimeMs: 0,
      results: [...byTopic].map(([topicName, partitions]) => ({ topicName, partitions })),
    };
  },
});
