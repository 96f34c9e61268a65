#!/usr/bin/env python3
"""The golden-fixture workload for librdkafka (confluent-kafka for Python), run through
tools/capture_proxy.ts (tests/golden/README.md):

    python3 tests/golden/workloads/librdkafka.py --bootstrap HOST:PORT [--prefix P] [--timeout S]

Creates a topic, produces a few records with every codec (and in a transaction with
offsets), consumes by assignment and in a classic and a KIP-848 consumer group and commits,
lists offsets, describes and alters configs, adds partitions, deletes records, lists /
describes / deletes groups and their offsets, then deletes the topic.

--timeout bounds each admin call and each consume (seconds, default 30): behind a proxy that
advertises only the oldest versions (capture_proxy.ts --oldest) librdkafka lacks the versions
several admin calls need, and those steps fail after that long. (api.version.request=false
with broker.version.fallback does not force old versions: librdkafka 2.x still asks for
ApiVersions unless the fallback is older than 0.10, whose message formats Kafka 4 refuses.)

Each step is reported on stderr; a failing step is reported and the workload goes on
(exit 1 at the end).
"""

import argparse
import sys
import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def record(i):
    key = None if i % 10 == 3 else f"key-{i}".encode()
    value = None if i % 10 == 7 else f"value-{i}".encode()
    headers = [] if i % 5 == 0 else [("trace", f"t-{i}".encode()), ("idx", str(i).encode())]
    return key, value, headers


TIMEOUT = 30.0


def wait_all(futures):
    """Waits for a dict of futures (admin results) and returns their results."""
    return {k: f.result(timeout=TIMEOUT) for k, f in futures.items()}


class Workload:
    def __init__(self, bootstrap, prefix):
        self.bootstrap = bootstrap
        self.topic = f"{prefix}-topic"
        self.group = f"{prefix}-group"
        self.group848 = f"{prefix}-group-848"
        self.prefix = prefix
        self.produced = 0
        self.base = {"bootstrap.servers": bootstrap, "client.id": "golden-librdkafka"}
        self.admin = AdminClient(dict(self.base))

    def produce(self, compression, count=4, extra=None):
        p = Producer({**self.base, "compression.type": compression, "linger.ms": 5, **(extra or {})})
        errors = []
        for _ in range(count):
            key, value, headers = record(self.produced)
            p.produce(
                self.topic,
                value=value,
                key=key,
                headers=headers or None,
                on_delivery=lambda err, _m: err and errors.append(err),
            )
            self.produced += 1
        left = p.flush(TIMEOUT)
        if left or errors:
            raise RuntimeError(f"{left} undelivered, errors {errors}")

    def transaction(self):
        p = Producer({**self.base, "transactional.id": f"{self.prefix}-tx"})
        p.init_transactions(TIMEOUT)
        p.begin_transaction()
        for _ in range(2):
            key, value, headers = record(self.produced)
            p.produce(self.topic, value=value, key=key, headers=headers or None)
            self.produced += 1
        c = Consumer({**self.base, "group.id": f"{self.prefix}-tx-group"})
        try:
            p.send_offsets_to_transaction(
                [TopicPartition(self.topic, 0, 1)], c.consumer_group_metadata(), TIMEOUT
            )
        finally:
            c.close()
        p.commit_transaction(TIMEOUT)

    def consume(self, group=None, protocol="classic"):
        conf = {
            **self.base,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 200,
            "group.id": group or f"{self.prefix}-assign",
        }
        if protocol == "consumer":
            conf["group.protocol"] = "consumer"
        c = Consumer(conf)
        read = 0
        last = {}
        try:
            if group:
                c.subscribe([self.topic])
            else:
                md = c.list_topics(self.topic, timeout=10).topics[self.topic]
                c.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in md.partitions])
            deadline = time.monotonic() + TIMEOUT
            while read < self.produced and time.monotonic() < deadline:
                for m in c.consume(num_messages=100, timeout=0.5):
                    if m.error() is not None:
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            log(f"consume error: {m.error()}")
                        continue
                    last[m.partition()] = m.offset()
                    read += 1
            if read < self.produced:
                raise RuntimeError(f"read {read} of {self.produced}")
            if group:
                c.commit(
                    offsets=[TopicPartition(self.topic, p, o + 1) for p, o in sorted(last.items())],
                    asynchronous=False,
                )
                c.committed([TopicPartition(self.topic, p) for p in sorted(last)], timeout=10)
            else:
                tps = [TopicPartition(self.topic, p, int(time.time() * 1000) - 60_000) for p in sorted(last)]
                c.offsets_for_times(tps, timeout=10)
                for p in sorted(last):
                    c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10, cached=False)
        finally:
            c.close()

    def steps(self):
        a = self.admin
        t = self.topic
        topic_res = ConfigResource(ResourceType.TOPIC, t)
        yield "create topic", lambda: wait_all(
            a.create_topics([NewTopic(t, num_partitions=2, replication_factor=1)])
        )
        yield "wait for leaders", lambda: time.sleep(1)
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
            yield f"produce {codec}", lambda codec=codec: self.produce(codec)
        yield "produce acks=1", lambda: self.produce("none", 2, {"acks": 1, "enable.idempotence": False})
        yield "transaction with offsets", self.transaction
        yield "consume by assignment", lambda: self.consume()
        yield "consume in a classic group and commit", lambda: self.consume(self.group)
        yield "consume in a consumer group (KIP-848)", lambda: self.consume(self.group848, "consumer")
        yield "describe cluster", lambda: a.describe_cluster().result(TIMEOUT)
        yield "list offsets", lambda: wait_all(
            a.list_offsets(
                {
                    TopicPartition(t, 0): OffsetSpec.earliest(),
                    TopicPartition(t, 1): OffsetSpec.for_timestamp(int(time.time() * 1000) - 60_000),
                }
            )
        )
        yield "describe configs", lambda: wait_all(
            a.describe_configs([topic_res, ConfigResource(ResourceType.BROKER, "1")])
        )
        yield "alter configs", lambda: wait_all(
            a.alter_configs([ConfigResource(ResourceType.TOPIC, t, set_config={"retention.ms": "86400000"})])
        )
        yield "incremental alter configs", lambda: wait_all(
            a.incremental_alter_configs(
                [
                    ConfigResource(
                        ResourceType.TOPIC,
                        t,
                        incremental_configs=[
                            ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)
                        ],
                    )
                ]
            )
        )
        yield "create partitions", lambda: wait_all(a.create_partitions([NewPartitions(t, 3)]))
        yield "list groups", lambda: a.list_consumer_groups().result(TIMEOUT)
        yield "describe groups", lambda: wait_all(a.describe_consumer_groups([self.group, self.group848]))
        yield "list group offsets", lambda: wait_all(
            a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(self.group)])
        )
        yield "alter group offsets", lambda: wait_all(
            a.alter_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(self.group, [TopicPartition(t, 0, 0)])]
            )
        )
        yield "delete records", lambda: wait_all(a.delete_records([TopicPartition(t, 0, 1)]))
        yield "delete groups", lambda: wait_all(a.delete_consumer_groups([self.group, self.group848]))
        yield "delete topic", lambda: wait_all(a.delete_topics([t]))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--prefix", default=None)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()
    global TIMEOUT
    TIMEOUT = args.timeout
    w = Workload(args.bootstrap, args.prefix or "golden-librdkafka")
    failed = 0
    for name, step in w.steps():
        started = time.monotonic()
        try:
            step()
            log(f"ok   {name} ({int((time.monotonic() - started) * 1000)} ms)")
        except Exception as e:  # noqa: BLE001 - reported, and the workload goes on
            failed += 1
            log(f"FAIL {name}: {e!r}")
    log("workload done" if failed == 0 else f"workload done, {failed} steps failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
