/**
 * DescribeLogDirs (key 35), versions 1-5 (KIP-113; total and usable bytes
 * KIP-827, cordoning KIP-1066): a broker's log directories and the size of each
 * partition in them. Every broker here has one, the shared log store, named
 * after it ({@link logDirName}); its volume's size is unknown (-1) and it is
 * never cordoned. Each partition's size is what the meta store records of its
 * batches; nothing lags (offsetLag 0) and nothing is being moved (isFutureKey
 * false). Null topics means every topic; as in Kafka, named topics and
 * partitions that do not exist are left out. A meta store that fails answers
 * the directory with KAFKA_STORAGE_ERROR and no topics, as Kafka answers an
 * offline directory.
 */

import {
  DESCRIBE_LOG_DIRS_API,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicInfo } from "../stores/types.ts";
import { logDirName } from "./alter_replica_log_dirs.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const describeLogDirs = defineHandler({
  api: DESCRIBE_LOG_DIRS_API,
  minVersion: 1,
  maxVersion: 5,
  async handle(req, ctx): Promise<DescribeLogDirsResponse> {
    if (!allowedCluster(ctx, AclOperation.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    }
    const { broker } = ctx;
    const answer = (errorCode: number, topics: DescribeLogDirsResponseTopic[]) => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{
        errorCode,
        logDir: logDirName(ctx),
        topics,
        totalBytes: -1,
        usableBytes: -1,
        isCordoned: false,
      }],
    });
    const topics: DescribeLogDirsResponseTopic[] = [];
    try {
      // Each topic described, with the partitions asked for (null: all of them).
      const wanted = new Map<string, { info: TopicInfo; partitions: Set<number> | null }>();
      if (req.topics === null) {
        for (const t of await broker.meta.listTopics()) {
          wanted.set(t.name, { info: t, partitions: null });
        }
      } else {
        for (const want of req.topics) {
          const info = await broker.topics.byTopicName(want.topic);
          if (!info) continue;
          const w = wanted.get(want.topic) ?? { info, partitions: new Set() };
          for (const p of want.partitions) w.partitions!.add(p);
          wanted.set(want.topic, w);
        }
      }
      const names = [...wanted.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const name of names) {
        const { info, partitions } = wanted.get(name)!;
        const indexes = Array.from({ length: info.partitions }, (_, i) => i)
          .filter((i) => partitions === null || partitions.has(i));
        if (indexes.length === 0) continue;
        const sizes = await broker.meta.partitionSizes(info.id, info.partitions);
        topics.push({
          name,
          partitions: indexes.map((i) => ({
            partitionIndex: i,
            partitionSize: sizes[i] ?? 0,
            offsetLag: 0,
            isFutureKey: false,
          })),
        });
      }
    } catch {
      broker.metrics.storeError("meta", "partitionSizes");
      return answer(ErrorCode.KAFKA_STORAGE_ERROR, []);
    }
    return answer(ErrorCode.NONE, topics);
  },
});
