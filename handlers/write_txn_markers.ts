/**
 * WriteTxnMarkers (key 27), versions 1-2: writes commit or abort markers into
 * partitions for a producer. Kafka's coordinators send it to partition
 * leaders; here the coordinator writes its markers itself, and this API
 * serves the admin client's abortTransaction (KIP-664, `kafka-transactions
 * abort`), which ends a hanging transaction in one partition. The markers of
 * one request go through the produce pipeline in one append (one atomic
 * commit); a marker for a producer with no open transaction in a partition is
 * acknowledged without being stored.
 */

import { WRITE_TXN_MARKERS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedCluster, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const writeTxnMarkers = defineHandler({
  api: WRITE_TXN_MARKERS_API,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx) {
    const { partitions, transactions } = ctx.broker;
    const markers = [];
    // Only brokers write markers: CLUSTER_ACTION on the cluster (KIP-98).
    if (!allowedCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        markers: req.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p) => ({
              partitionIndex: p,
              errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            })),
          })),
        })),
      };
    }
    for (const m of req.markers) {
      const topics = [];
      const wanted: { topicId: string; partition: number; out: { errorCode: number } }[] = [];
      for (const t of m.topics) {
        const lookup = await partitions.topicByName(t.name);
        const results = [];
        for (const p of t.partitionIndexes) {
          const at = partitions.locate(lookup, p);
          const out = { partitionIndex: p, errorCode: at.errorCode };
          results.push(out);
          if (at.ref) wanted.push({ topicId: at.ref.topic.id, partition: p, out });
        }
        topics.push({ name: t.name, partitions: results });
      }
      try {
        const codes = await transactions.writeMarkers(
          wanted,
          m.producerId,
          m.producerEpoch,
          m.transactionResult,
        );
        wanted.forEach((w, i) => (w.out.errorCode = codes[i]));
      } catch (e) {
        const code = partitions.failure(e);
        for (const w of wanted) w.out.errorCode = code;
      }
      markers.push({ producerId: m.producerId, topics });
    }
    return { markers };
  },
});
