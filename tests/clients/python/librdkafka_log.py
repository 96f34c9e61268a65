#!/usr/bin/env python3
"""What librdkafka (confluent-kafka) sees of three log behaviours (issue 11), for
tests/librdkafka_log_test.ts:

- keyless records produced to a compacted topic fail with INVALID_RECORD in the
  delivery report; keyed ones succeed;
- a LogAppendTime topic hands the consumer the broker's timestamp type and time;
- offsets_for_times is exact to the record inside one batch.

One JSON line per check on stdout ({"check": ..., ...}); diagnostics on stderr.
Bounded in time: every wait has a deadline.
"""

import argparse
import json
import sys
import time

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def create(bootstrap, topic, configs):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, config=configs)])[topic]
    fut.result(timeout=15)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        md = admin.list_topics(topic, timeout=5).topics.get(topic)
        if md is not None and md.error is None and md.partitions and md.partitions[0].leader >= 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no leader")


def producer(bootstrap, **extra):
    return Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0, **extra})


def consume_all(bootstrap, topic, n):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"g-{topic}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 20
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            log(f"consume {topic}: {m.error()}")
            continue
        got.append(m)
    c.close()
    return got


def keyless_to_compacted(bootstrap):
    topic = "compacted"
    create(bootstrap, topic, {"cleanup.policy": "compact"})
    reports = []

    def report(err, msg):
        reports.append({
            "key": None if msg.key() is None else msg.key().decode(),
            "error": None if err is None else err.name(),
            "code": None if err is None else err.code(),
            "message": None if err is None else err.str(),
            "offset": msg.offset(),
        })

    p = producer(bootstrap)
    # Separate batches: the broker refuses a batch holding a keyless record whole.
    for i in range(2):
        p.produce(topic, value=f"keyless-{i}".encode(), on_delivery=report)
        p.flush(15)
    for i in range(2):
        p.produce(topic, key=f"k{i}".encode(), value=f"keyed-{i}".encode(), on_delivery=report)
        p.flush(15)
    out({"check": "compacted", "reports": reports, "INVALID_RECORD": KafkaError.INVALID_RECORD})


def log_append_time(bootstrap):
    topic = "appended"
    create(bootstrap, topic, {"message.timestamp.type": "LogAppendTime"})
    p = producer(bootstrap)
    before = int(time.time() * 1000)
    # A create time far in the past: the broker's append time replaces it.
    p.produce(topic, key=b"a", value=b"1", timestamp=1_000_000)
    p.flush(15)
    after = int(time.time() * 1000)
    msgs = consume_all(bootstrap, topic, 1)
    out({
        "check": "log_append_time",
        "timestamps": [list(m.timestamp()) for m in msgs],
        "before": before,
        "after": after,
        "LOG_APPEND_TIME": TIMESTAMP_LOG_APPEND_TIME,
        "CREATE_TIME": TIMESTAMP_CREATE_TIME,
    })


def offsets_for_times(bootstrap):
    topic = "times"
    create(bootstrap, topic, {})
    base = int(time.time() * 1000) - 600_000
    # Ten records a second apart, lingered into one batch: the batch goes when the
    # tenth record joins it (batch.num.messages), and the linger is long enough
    # for a loaded machine. The leader is known before the first record, so no
    # record waits apart from the others for metadata.
    p = producer(bootstrap, **{"linger.ms": 5000, "batch.num.messages": 10})
    p.list_topics(topic, timeout=15)
    for i in range(10):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), timestamp=base + i * 1000)
    p.flush(15)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "g-times"})
    asks = {
        "before_all": base - 5000,
        "exact_first": base,
        "exact_4": base + 4000,
        "between_6_7": base + 6500,
        "exact_last": base + 9000,
        "after_all": base + 20_000,
    }
    answers = {}
    for name, ts in asks.items():
        tp = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=15)[0]
        answers[name] = tp.offset
    c.close()
    out({"check": "offsets_for_times", "answers": answers})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    args = ap.parse_args()
    for step in (keyless_to_compacted, log_append_time, offsets_for_times):
        try:
            step(args.bootstrap)
        except (KafkaException, RuntimeError) as e:
            out({"check": step.__name__, "failed": str(e)})
    out({"done": True})


if __name__ == "__main__":
    main()
