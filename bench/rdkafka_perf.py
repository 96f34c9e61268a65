#!/usr/bin/env python3
"""The librdkafka-based driver of the benchmark (confluent-kafka Python).

Each mode prints one JSON object on stdout (progress and errors go to stderr);
produce and consume include the wall-clock start and end of the measured part
(start_time, end_time, seconds since the epoch) and the CPU seconds the driver
used (cpu_s, librdkafka's threads included).

  create   --bootstrap B --topic NAME:PARTITIONS [--topic ...]
           creates the topics (replication factor 1); existing ones are fine
  produce  --bootstrap B --topic T --num-records N --record-size S
           [--acks all] [--linger-ms 5] [--timeout-s 120]
           [--throughput R] [--start-at EPOCH_S]
           produces as fast as librdkafka takes records (or R records/s);
           latency is each record's produce() -> delivery report time
           (Message.latency()); --start-at waits (after the warm-up record)
           until that wall-clock time, so several producers start together
  consume  --bootstrap B --topic T --num-records N [--timeout-s 120]
           reads every partition from the beginning by assignment (no group),
           until N records arrived; with --group G it subscribes as a member of
           consumer group G instead (its time starts at its first record);
           --consumer-property name=value (repeatable) sets librdkafka options
  e2e      --bootstrap B --topic T --num-records N [--timeout-s 120]
           like consume, started before a producer writes T; the latency of a
           record is its arrival time minus its CreateTime (both wall clock, ms
           resolution: the producer is another process on the same machine)
"""

import argparse
import json
import resource
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def percentile(sorted_values, q):
    """The value at quantile q of an ascending list (nearest rank, like Kafka's tools)."""
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(len(sorted_values) * q))
    return sorted_values[i]


def latency_summary(values_ms):
    values_ms.sort()
    return {
        "p50_ms": percentile(values_ms, 0.5),
        "p99_ms": percentile(values_ms, 0.99),
        "p999_ms": percentile(values_ms, 0.999),
        "max_ms": values_ms[-1] if values_ms else None,
        "avg_ms": sum(values_ms) / len(values_ms) if values_ms else None,
    }


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def create(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    topics = []
    for spec in args.topic:
        name, _, parts = spec.partition(":")
        topics.append(NewTopic(name, num_partitions=int(parts or "1"), replication_factor=1))
    futures = admin.create_topics(topics, operation_timeout=30, request_timeout=30)
    created = []
    for name, f in futures.items():
        try:
            f.result(timeout=30)
            created.append(name)
        except KafkaException as e:
            err = e.args[0]
            if err.name() != "TOPIC_ALREADY_EXISTS":
                raise
    return {"created": sorted(created)}


def produce(args):
    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "linger.ms": args.linger_ms,
        "enable.idempotence": True,
        "queue.buffering.max.messages": 200000,
        "queue.buffering.max.kbytes": 262144,
        **properties(args.producer_property),
    })
    payload = bytes((65 + i % 26) for i in range(args.record_size))
    latencies = []
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            latencies.append(msg.latency() * 1000.0)

    # Warm up (connection, metadata, producer id) with one record before the clock starts.
    producer.list_topics(args.topic, timeout=30)
    producer.produce(args.topic, payload)
    if producer.flush(30) != 0:
        raise SystemExit("the warm-up record was not delivered within 30 s")
    if args.start_at:
        time.sleep(max(0.0, args.start_at - time.time()))
    cpu0 = cpu_seconds()
    start_time = time.time()
    deadline = time.monotonic() + args.timeout_s
    start = time.monotonic()
    sent = 0
    while sent < args.num_records:
        if args.throughput > 0:
            # Paced: record i is due at start + i / rate; wait (serving delivery reports) till then.
            ahead = start + sent / args.throughput - time.monotonic()
            if ahead > 0:
                producer.poll(ahead)
                continue
        try:
            producer.produce(args.topic, payload, on_delivery=delivered)
            sent += 1
        except BufferError:
            producer.poll(0.001)
            if time.monotonic() > deadline:
                break
        if sent % 1000 == 0:
            producer.poll(0)
    remaining = producer.flush(max(0.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - start
    done = len(latencies)
    out = {
        "start_time": start_time,
        "end_time": start_time + elapsed,
        "cpu_s": cpu_seconds() - cpu0,
        "records": done,
        "seconds": elapsed,
        "records_per_s": done / elapsed,
        "mb_per_s": done * args.record_size / elapsed / (1024 * 1024),
        "errors": len(errors),
        "undelivered": remaining,
        **latency_summary(latencies),
    }
    if errors:
        out["first_error"] = errors[0]
    return out


def properties(pairs):
    """--consumer-property / --producer-property name=value pairs, as librdkafka configuration."""
    props = {}
    for kv in pairs:
        k, sep, v = kv.partition("=")
        if not sep:
            raise SystemExit(f"property {kv!r}: expected name=value")
        props[k] = v
    return props


def assigned_consumer(args):
    if args.group:
        # A member of a consumer group (classic protocol, librdkafka's default), reading from
        # the start; offsets committed as it goes (the defaults) so a partition handed on in a
        # rebalance continues where its last owner was.
        consumer = Consumer({
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            **properties(args.consumer_property),
        })
        consumer.subscribe([args.topic])
        return consumer
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": "skb-bench-unused",  # required by the client; no group API is used
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        **properties(args.consumer_property),
    })
    md = consumer.list_topics(args.topic, timeout=30)
    partitions = sorted(md.topics[args.topic].partitions.keys())
    consumer.assign([TopicPartition(args.topic, p, 0) for p in partitions])
    return consumer


def consume(args, e2e=False):
    consumer = assigned_consumer(args)
    if e2e:
        print("ready", file=sys.stderr, flush=True)
    got = 0
    nbytes = 0
    latencies = []
    cpu0 = cpu_seconds()
    start_time = time.time()
    start = time.monotonic()
    first = None
    last = start
    deadline = start + args.timeout_s
    while got < args.num_records and time.monotonic() < deadline:
        if e2e:
            # One record at a time: consume() would wait for a full batch (or its timeout).
            m = consumer.poll(0.5)
            msgs = [] if m is None else [m]
        else:
            # Never ask for more than remain: a batch call waits until it is full.
            msgs = consumer.consume(num_messages=min(1000, args.num_records - got), timeout=0.5)
        now_ms = time.time() * 1000.0
        for m in msgs:
            if m.error() is not None:
                continue
            got += 1
            nbytes += len(m.value() or b"")
            if e2e:
                latencies.append(now_ms - m.timestamp()[1])
        if msgs:
            last = time.monotonic()
            if first is None:
                first = last
    consumer.close()
    # A group member's time starts at its first record, as ConsumerPerformance's fetch time
    # leaves out the join; an assigned consumer's starts before its first fetch.
    begin = first if args.group and first is not None else start
    elapsed = max(last - begin, 1e-9)
    out = {
        "start_time": start_time,
        "end_time": start_time + elapsed,
        "cpu_s": cpu_seconds() - cpu0,
        "records": got,
        "bytes": nbytes,
        "seconds": elapsed,
        "records_per_s": got / elapsed,
        "mb_per_s": nbytes / elapsed / (1024 * 1024),
        "first_record_after_s": None if first is None else first - start,
    }
    if e2e:
        out.update(latency_summary(latencies))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("mode", choices=["create", "produce", "consume", "e2e"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", action="append", required=True)
    ap.add_argument("--num-records", type=int, default=100000)
    ap.add_argument("--record-size", type=int, default=1024)
    ap.add_argument("--acks", default="all")
    ap.add_argument("--linger-ms", type=float, default=5)
    ap.add_argument("--timeout-s", type=float, default=120)
    ap.add_argument("--throughput", type=float, default=-1, help="records/s; -1: unlimited")
    ap.add_argument("--group", help="consume as a member of this consumer group (else: assign)")
    ap.add_argument("--consumer-property", action="append", default=[], help="name=value")
    ap.add_argument("--producer-property", action="append", default=[], help="name=value")
    ap.add_argument("--start-at", type=float, default=0, help="wall-clock start, epoch seconds")
    args = ap.parse_args()
    if args.mode != "create":
        args.topic = args.topic[0]
    if args.mode == "create":
        result = create(args)
    elif args.mode == "produce":
        result = produce(args)
    else:
        result = consume(args, e2e=args.mode == "e2e")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
