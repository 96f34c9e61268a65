/**
 * Apache Kafka 4.4's kafka-transactions tool against an in-process broker:
 * list and describe (ListTransactions, DescribeTransactions),
 * describe-producers (DescribeProducers), find-hanging (a transaction open in
 * a partition that the coordinator no longer knows) and abort (WriteTxnMarkers
 * through the admin client's abortTransaction, KIP-664).
 */

import assert from "node:assert/strict";
import {
  ADD_PARTITIONS_TO_TXN_API,
  defaultAddPartitionsToTxnRequest,
  INIT_PRODUCER_ID_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { BatchAttributes } from "../protocol/batch_codec.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { testBroker } from "./broker_util.ts";
import { runKafkaTool } from "./kafka_tools.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, records } from "./helpers.ts";
import { produceRequest } from "./wire_requests.ts";

/** Starts a transaction for `tid` in t-0 with two records written `ageMs` ago; its producer id. */
async function openTransaction(c: WireClient, tid: string, ageMs: number): Promise<number> {
  const init = await c.call(INIT_PRODUCER_ID_API, 4, {
    transactionalId: tid,
    transactionTimeoutMs: 600_000,
    producerId: -1,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  assert.equal(init.errorCode, 0);
  const added = await c.call(ADD_PARTITIONS_TO_TXN_API, 3, {
    ...defaultAddPartitionsToTxnRequest(),
    v3AndBelowTransactionalId: tid,
    v3AndBelowProducerId: init.producerId,
    v3AndBelowProducerEpoch: init.producerEpoch,
    v3AndBelowTopics: [{ name: "t", partitions: [0] }],
  });
  assert.equal(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, 0);
  const req = produceRequest(
    "t",
    buildBatch(records(2), {
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      baseSequence: 0,
      attributes: BatchAttributes.TRANSACTIONAL,
      baseTimestamp: Date.now() - ageMs,
    }),
  );
  req.transactionalId = tid;
  const produced = await c.call(PRODUCE_API, 9, req);
  assert.equal(produced.responses[0].partitionResponses[0].errorCode, 0);
  return init.producerId;
}

/** The rows of a tool's table (header first), split on whitespace. */
function rows(stdout: string): string[][] {
  return stdout.trim().split("\n").map((l) => l.trim().split(/\s+/));
}

Deno.test("kafka-transactions lists, describes, finds hanging transactions and aborts them", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "t", 1);
  const hanging = await openTransaction(c, "tx-hang", 3_600_000);
  // The coordinator forgets tx-hang: its transaction in t-0 now hangs.
  const meta = broker.context.meta;
  const stored = await meta.getTransaction("tx-hang");
  assert.ok(await meta.putTransaction("tx-hang", stored!.version, null));
  const live = await openTransaction(c, "tx-live", 0);
  const run = async (...args: string[]) => {
    const r = await runKafkaTool(
      "kafka-transactions",
      ["--bootstrap-server", `127.0.0.1:${broker.port}`, ...args],
      60_000,
    );
    assert.equal(r.code, 0, `kafka-transactions ${args.join(" ")}: ${r.stderr}`);
    return rows(r.stdout);
  };

  const listed = await run("list");
  assert.deepEqual(listed[0], ["TransactionalId", "Coordinator", "ProducerId", "TransactionState"]);
  assert.deepEqual(listed.slice(1), [["tx-live", "0", String(live), "Ongoing"]]);

  const described = await run("describe", "--transactional-id", "tx-live");
  assert.equal(described[0][0], "CoordinatorId");
  const row = Object.fromEntries(described[0].map((k, i) => [k, described[1][i]]));
  assert.equal(row.TransactionState, "Ongoing");
  assert.equal(row.ProducerId, String(live));
  assert.equal(row.TransactionTimeoutMs, "600000");
  assert.equal(row.TopicPartitions, "t-0");

  const producers = await run("describe-producers", "--topic", "t", "--partition", "0");
  assert.deepEqual(
    producers.slice(1).map((r) => [r[0], r[5]]).sort(),
    [[String(hanging), "0"], [String(live), "2"]].sort(),
  );

  // Only tx-hang's transaction is older than a minute, and the coordinator does not know it.
  const found = await run("find-hanging", "--broker-id", "0", "--max-transaction-timeout", "1");
  assert.deepEqual(found.slice(1).map((r) => [r[0], r[1], r[2], r[5]]), [[
    "t",
    "0",
    String(hanging),
    "0",
  ]]);

  await run("abort", "--topic", "t", "--partition", "0", "--start-offset", "0");
  const after = await run("describe-producers", "--topic", "t", "--partition", "0");
  assert.deepEqual(
    after.slice(1).map((r) => [r[0], r[5]]).sort(),
    [[String(hanging), "None"], [String(live), "2"]].sort(),
  );
  assert.deepEqual(
    (await run("find-hanging", "--broker-id", "0", "--max-transaction-timeout", "1")).slice(1),
    [],
  );
});
