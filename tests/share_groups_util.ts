/**
 * What the share-group client tests share: the share-consume lines of the
 * drivers (tests/clients/CONTRACT.md "Share group members"), running one
 * share-consume, setting a share group's configs (KIP-932), and a
 * transactional producer over the wire for share.isolation.level.
 */

import assert from "node:assert/strict";
import {
  ADD_PARTITIONS_TO_TXN_API,
  defaultAddPartitionsToTxnRequest,
  END_TXN_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  INIT_PRODUCER_ID_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { BatchAttributes } from "../protocol/batch_codec.ts";
import { records } from "./helpers.ts";
import { produceRequest } from "./wire_requests.ts";
import type { WireClient } from "./wire_client.ts";
import { type ClientDriver, type Run, runAny } from "./client_drivers.ts";

/** Kafka's smallest share.record.lock.duration.ms (group.share.min.record.lock.duration.ms). */
export const MIN_LOCK_MS = 15_000;

export interface ShareLine {
  p?: number;
  o?: number;
  dc?: number;
  at?: number;
  acked?: [number, number][];
  type?: string;
  done?: boolean;
}

export function shareLines(stdout: string): ShareLine[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** Sets share group configs (KIP-932) on a GROUP resource with IncrementalAlterConfigs. */
export async function setGroupConfigs(
  c: WireClient,
  group: string,
  configs: Record<string, string>,
): Promise<void> {
  const set = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
    resources: [{
      resourceType: 32,
      resourceName: group,
      configs: Object.entries(configs).map(([name, value]) => ({
        name,
        configOperation: 0,
        value,
      })),
    }],
    validateOnly: false,
  });
  assert.equal(set.responses[0].errorCode, 0, set.responses[0].errorMessage ?? "");
}

/** One share-consume run of a driver. */
export function shareConsumer(
  d: ClientDriver,
  bootstrap: string,
  topic: string,
  group: string,
  extra: string[],
  timeoutMs = 60_000,
): Run {
  return runAny(d, [
    "share-consume",
    "--bootstrap",
    bootstrap,
    "--topic",
    topic,
    "--group",
    group,
    "--timeout-ms",
    String(timeoutMs),
    ...extra,
  ], timeoutMs + 40_000);
}

/** A transactional producer of topic `topic` (partition 0) through the wire. */
export async function txnProducer(c: WireClient, tid: string, topic: string) {
  const init = await c.call(INIT_PRODUCER_ID_API, 5, {
    transactionalId: tid,
    transactionTimeoutMs: 60_000,
    producerId: -1,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  assert.equal(init.errorCode, 0);
  const pid = Number(init.producerId);
  const epoch = init.producerEpoch;
  let seq = 0;
  return {
    /** Begins a transaction holding records from..from+n-1. */
    async send(from: number, n: number) {
      const add = await c.call(ADD_PARTITIONS_TO_TXN_API, 3, {
        ...defaultAddPartitionsToTxnRequest(),
        v3AndBelowTransactionalId: tid,
        v3AndBelowProducerId: pid,
        v3AndBelowProducerEpoch: epoch,
        v3AndBelowTopics: [{ name: topic, partitions: [0] }],
      });
      assert.equal(add.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, 0);
      const req = produceRequest(
        topic,
        buildBatch(records(n, from), {
          producerId: pid,
          producerEpoch: epoch,
          baseSequence: seq,
          attributes: BatchAttributes.TRANSACTIONAL,
        }),
      );
      seq += n;
      req.transactionalId = tid;
      const res = await c.call(PRODUCE_API, 9, req);
      assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
    },
    async end(committed: boolean) {
      const r = await c.call(END_TXN_API, 4, {
        transactionalId: tid,
        producerId: pid,
        producerEpoch: epoch,
        committed,
      });
      assert.equal(r.errorCode, 0);
    },
  };
}
