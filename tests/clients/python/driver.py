#!/usr/bin/env python3
"""Interop driver for confluent-kafka (librdkafka), following tests/clients/CONTRACT.md.

JSON lines go to stdout, diagnostics to stderr. Every command is bounded in time and
exits by itself.
"""

import argparse
import base64
import json
import os
import sys
import time
import uuid

try:
    from confluent_kafka import (
        OFFSET_BEGINNING,
        Consumer,
        KafkaError,
        KafkaException,
        Producer,
        TopicPartition,
    )
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as e:  # pragma: no cover - reported to the caller
    print(f"confluent-kafka is not installed ({e}); run: pip install confluent-kafka", file=sys.stderr)
    sys.exit(2)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import security  # noqa: E402

SECURITY = {}  # librdkafka settings from the security flags, added to every client


def log(*args):
    print(*args, file=sys.stderr, flush=True)


PROGRESS = {"count": 0, "done": False}  # records printed so far; whether the final line is out


def out(obj):
    if obj.get("done"):
        PROGRESS["done"] = True
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def record(i):
    """Record i as the contract defines it: (key, value, headers)."""
    key = None if i % 10 == 3 else f"key-{i}".encode()
    value = None if i % 10 == 7 else f"value-{i}-{'x' * (i % 100)}".encode()
    headers = [] if i % 5 == 0 else [("trace", f"t-{i}".encode()), ("idx", str(i).encode())]
    return key, value, headers


def b64(b):
    return None if b is None else base64.b64encode(b).decode("ascii")


def error_cb(err):
    log(f"client error: {err}")
    # A refused login or a failed TLS handshake ends the run with the error line (librdkafka
    # would retry it forever).
    kind = security.kind_of(err.name(), err.str())
    if kind is not None:
        security.fail(kind, err.name(), err.str())


def with_security(conf):
    conf.update(SECURITY)
    return conf


def check_connection(args):
    """CONTRACT.md "Security": the cluster answers a metadata request within the connect timeout."""
    deadline = time.monotonic() + args.connect_timeout_ms / 1000
    admin = AdminClient(with_security({"bootstrap.servers": args.bootstrap, "error_cb": error_cb}))
    last = None
    while time.monotonic() < deadline:
        admin.poll(0)  # serves error_cb, which ends the run on a security failure
        try:
            admin.list_topics(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
            return
        except KafkaException as e:
            last = e.args[0]
            kind = security.kind_of(last.name(), last.str())
            if kind is not None:
                security.fail(kind, last.name(), last.str())
    security.fail(
        "connection",
        last.name() if last is not None else "_TIMED_OUT",
        f"no broker answered within {args.connect_timeout_ms} ms" + (f" ({last.str()})" if last else ""),
    )


def left(deadline):
    return max(0.1, deadline - time.monotonic())


def create_topic(bootstrap, topic, partitions, deadline):
    admin = AdminClient(with_security({"bootstrap.servers": bootstrap, "error_cb": error_cb}))
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=left(deadline),
        request_timeout=left(deadline),
    )
    for name, fut in futures.items():
        try:
            fut.result(timeout=left(deadline))
            log(f"created topic {name} with {partitions} partitions")
        except KafkaException as e:
            err = e.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                log(f"topic {name} already exists")
            else:
                raise
    wait_leaders(admin, topic, partitions, deadline)


def wait_leaders(client, topic, partitions, deadline):
    """Waits until the topic's metadata names a leader for each of its partitions."""
    while True:
        try:
            tmd = client.list_topics(topic, timeout=min(5.0, left(deadline))).topics.get(topic)
            if (
                tmd is not None
                and tmd.error is None
                and len(tmd.partitions) >= partitions
                and all(p.leader >= 0 and p.error is None for p in tmd.partitions.values())
            ):
                return
        except KafkaException as e:
            log(f"metadata for {topic}: {e}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"topic {topic} has no leader for some partition before the timeout")
        time.sleep(0.1)


def produce(args):
    deadline = time.monotonic() + args.timeout_ms / 1000
    if args.create_partitions:
        create_topic(args.bootstrap, args.topic, args.create_partitions, deadline)
    conf = {
        "bootstrap.servers": args.bootstrap,
        "compression.type": args.compression,
        "error_cb": error_cb,
    }
    if args.acks is not None:
        conf["acks"] = args.acks
    producer = Producer(with_security(conf))
    # Learn the topic's partitions before the first produce(): records produced while librdkafka
    # still waits for metadata are partitioned later and can land after records produced once
    # it knows, breaking per-partition produce order (without idempotence).
    wait_leaders(producer, args.topic, 1, deadline)
    acked = 0
    errors = 0

    def report(i):
        def on_delivery(err, msg):
            nonlocal acked, errors
            if err is not None:
                errors += 1
                log(f"record {i}: delivery failed: {err}")
            else:
                acked += 1
                PROGRESS["count"] += 1
                out({"i": i, "p": msg.partition(), "o": msg.offset()})

        return on_delivery

    queued = 0
    for i in range(args.start, args.start + args.count):
        key, value, headers = record(i)
        while time.monotonic() < deadline:
            try:
                producer.produce(args.topic, value=value, key=key, headers=headers or None, on_delivery=report(i))
                queued += 1
                break
            except BufferError:
                producer.poll(0.1)
        else:
            break
        producer.poll(0)
    if queued < args.count:
        log(f"{args.count - queued} records not even queued before the timeout")
        errors += args.count - queued
    remaining = producer.flush(max(0.0, deadline - time.monotonic()))
    if remaining:
        log(f"{remaining} records still undelivered at the timeout")
        errors += remaining
    out({"done": True, "count": acked, "errors": errors})
    sys.stdout.flush()
    return 0 if acked == args.count and errors == 0 else 1


def now_ms():
    return int(time.time() * 1000)


def consume_group(args):
    """A member of group G (CONTRACT.md, "Group members"): commits what it printed after each batch."""
    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "error_cb": error_cb,
    }
    if args.group_protocol == "consumer":
        conf["group.protocol"] = "consumer"
        if args.assignor:
            conf["group.remote.assignor"] = args.assignor
    elif args.assignor:
        conf["partition.assignment.strategy"] = args.assignor
    consumer = Consumer(with_security(conf))
    pending = {}  # partition -> next offset: printed, not yet committed

    def commit():
        if not pending:
            return
        offsets = sorted(pending.items())
        pending.clear()
        try:
            consumer.commit(offsets=[TopicPartition(args.topic, p, n) for p, n in offsets], asynchronous=False)
            out({"commit": [[p, n] for p, n in offsets], "at": now_ms()})
        except KafkaException as e:
            # The records may be read again by whoever owns the partitions next.
            log(f"commit of {offsets} failed: {e}")

    def on_assign(_consumer, partitions):
        log(f"assigned {[tp.partition for tp in partitions]}")

    def on_revoke(_consumer, partitions):
        # Hand over exactly what was printed.
        commit()

    deadline = time.monotonic() + args.timeout_ms / 1000
    read = 0
    stopped = False
    try:
        consumer.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
        while read < args.count:
            if args.stop_file and os.path.exists(args.stop_file):
                stopped = True
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for m in consumer.consume(num_messages=1000, timeout=min(0.2, left)):
                if m.error() is not None:
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        log(f"consume error: {m.error()}")
                    continue
                if read >= args.count:
                    break
                _, ts = m.timestamp()
                hs = m.headers() or []
                out(
                    {
                        "p": m.partition(),
                        "o": m.offset(),
                        "k": b64(m.key()),
                        "v": b64(m.value()),
                        "h": [[name, b64(val)] for name, val in hs],
                        "ts": ts,
                        "at": now_ms(),
                    }
                )
                pending[m.partition()] = m.offset() + 1
                read += 1
            commit()
            sys.stdout.flush()
        commit()
    finally:
        consumer.close()
    out({"done": True, "count": read})
    sys.stdout.flush()
    return 0 if read >= args.count or stopped else 1


def consume(args):
    if args.group:
        return consume_group(args)
    conf = {
        "bootstrap.servers": args.bootstrap,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "error_cb": error_cb,
    }
    if args.group:
        conf["group.id"] = args.group
    else:
        conf["group.id"] = f"interop-throwaway-{uuid.uuid4()}"
    if args.isolation:
        conf["isolation.level"] = args.isolation
    consumer = Consumer(with_security(conf))
    deadline = time.monotonic() + args.timeout_ms / 1000
    read = 0
    last = {}  # partition -> offset of the last record printed
    try:
        if args.group:
            consumer.subscribe([args.topic])
        else:
            md = consumer.list_topics(args.topic, timeout=max(1.0, deadline - time.monotonic()))
            tmd = md.topics.get(args.topic)
            if tmd is None or tmd.error is not None:
                log(f"topic {args.topic} metadata: {tmd.error if tmd else 'missing'}")
                parts = []
            else:
                parts = sorted(tmd.partitions.keys())
            consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in parts])
        while read < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            msgs = consumer.consume(num_messages=1000, timeout=min(1.0, left))
            for m in msgs:
                if m.error() is not None:
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        log(f"consume error: {m.error()}")
                    continue
                _, ts = m.timestamp()
                hs = m.headers() or []
                out(
                    {
                        "p": m.partition(),
                        "o": m.offset(),
                        "k": b64(m.key()),
                        "v": b64(m.value()),
                        "h": [[name, b64(val)] for name, val in hs],
                        "ts": ts,
                    }
                )
                last[m.partition()] = m.offset()
                read += 1
                PROGRESS["count"] += 1
                if read >= args.count:
                    break
        if args.group and last:
            # The group has consumed exactly what was printed.
            consumer.commit(
                offsets=[TopicPartition(args.topic, p, o + 1) for p, o in sorted(last.items())], asynchronous=False
            )
    finally:
        consumer.close()
    out({"done": True, "count": read})
    sys.stdout.flush()
    return 0 if read >= args.count else 1


def share_consume(args):
    """A share group member (CONTRACT.md "Share group members", KIP-932): librdkafka's share
    consumer in explicit acknowledgement mode."""
    try:
        from confluent_kafka import AcknowledgeType, ShareConsumer
    except ImportError as e:
        log(f"this confluent-kafka has no share consumer ({e}); install confluent-kafka 2.15 or newer")
        return 2
    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "share.acknowledgement.mode": "explicit",
        "error_cb": error_cb,
    }
    consumer = ShareConsumer(with_security(conf))
    kind = {"accept": AcknowledgeType.ACCEPT, "release": AcknowledgeType.RELEASE, "reject": AcknowledgeType.REJECT}
    deadline = time.monotonic() + args.timeout_ms / 1000
    read = 0
    stopped = False
    try:
        consumer.subscribe([args.topic])
        while read < args.count:
            if args.stop_file and os.path.exists(args.stop_file):
                stopped = True
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            got = []
            for m in consumer.poll(timeout=min(0.2, left)):
                if m.error() is not None:
                    log(f"share consume error: {m.error()}")
                    continue
                got.append(m)
            if not got:
                continue
            for m in got:
                out({"p": m.partition(), "o": m.offset(), "dc": m.delivery_count() or -1, "at": now_ms()})
                read += 1
                PROGRESS["count"] += 1
            sys.stdout.flush()
            if args.ack == "crash":
                # Ends the process as a crash would: no acknowledgement, no close, no leave.
                os._exit(0)
            if args.ack == "none":
                stopped = True
                break
            if args.hold_ms > 0:
                time.sleep(args.hold_ms / 1000)  # holds the records, as a slow worker would
            for m in got:
                consumer.acknowledge(m, kind[args.ack])
            results = consumer.commit_sync(timeout=10)
            failed = {(tp.partition): e for tp, e in results.items() if e is not None}
            acked = []
            for m in got:
                if m.partition() in failed:
                    log(f"acknowledgement of {m.partition()}:{m.offset()} failed: {failed[m.partition()]}")
                elif not any(tp.partition == m.partition() for tp in results):
                    log(f"acknowledgement of {m.partition()}:{m.offset()}: no result")
                else:
                    acked.append([m.partition(), m.offset()])
            out({"acked": acked, "type": args.ack})
            sys.stdout.flush()
            if args.ack in ("release", "reject"):
                stopped = True
                break
        if read < args.count and not stopped:
            log(f"read {read} records before the timeout")
    finally:
        consumer.close()
    out({"done": True, "count": read})
    sys.stdout.flush()
    return 0 if read >= args.count or stopped else 1


def txn(args):
    """Consume-transform-produce in transactions (CONTRACT.md "Transactions")."""
    deadline = time.monotonic() + args.timeout_ms / 1000
    producer = Producer(
        with_security({"bootstrap.servers": args.bootstrap, "transactional.id": args.txn_id, "error_cb": error_cb})
    )
    consumer = Consumer(
        with_security({
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "error_cb": error_cb,
        })
    )
    producer.init_transactions(left(deadline))
    md = producer.list_topics(args.out, timeout=left(deadline))
    out_parts = sorted(md.topics[args.out].partitions.keys())
    read = commits = aborts = 0

    def abort_one(parts):
        nonlocal aborts
        producer.begin_transaction()
        for p in out_parts:
            producer.produce(args.out, value=f"aborted:{aborts}:{p}".encode(), partition=p)
        if parts:
            producer.send_offsets_to_transaction(
                [TopicPartition(getattr(args, "in"), p, 1) for p in sorted(parts)],
                consumer.consumer_group_metadata(),
                left(deadline),
            )
        producer.flush(left(deadline))
        producer.abort_transaction(left(deadline))
        aborts += 1
        out({"abort": len(out_parts)})

    try:
        consumer.subscribe([getattr(args, "in")])
        while read < args.count and left(deadline) > 0:
            msgs = [m for m in consumer.consume(num_messages=100, timeout=min(1.0, left(deadline)))]
            good = [m for m in msgs if m.error() is None]
            for m in msgs:
                if m.error() is not None and m.error().code() != KafkaError._PARTITION_EOF:
                    log(f"consume error: {m.error()}")
            if not good:
                continue
            producer.begin_transaction()
            nxt = {}
            for m in good:
                producer.produce(
                    args.out, key=m.key(), value=f"{m.partition()}:{m.offset()}".encode(), partition=m.partition()
                )
                nxt[m.partition()] = m.offset() + 1
            producer.send_offsets_to_transaction(
                [TopicPartition(getattr(args, "in"), p, o) for p, o in sorted(nxt.items())],
                consumer.consumer_group_metadata(),
                left(deadline),
            )
            producer.commit_transaction(left(deadline))
            read += len(good)
            commits += 1
            out({"commit": [[p, o] for p, o in sorted(nxt.items())], "records": len(good)})
            sys.stdout.flush()
            if args.abort_every and commits % args.abort_every == 0:
                abort_one(nxt.keys())
        if read >= args.count:
            abort_one([tp.partition for tp in consumer.assignment()])
    finally:
        consumer.close()
    fenced = None
    if args.hold_file:
        producer.begin_transaction()
        for p in out_parts:
            producer.produce(args.out, value=f"held:{p}".encode(), partition=p)
        # Offsets the fencing must discard with the rest, for the group alone (the member has left:
        # its metadata would be refused as UNKNOWN_MEMBER_ID): a consumer that never joins.
        idle = Consumer(with_security({"bootstrap.servers": args.bootstrap, "group.id": args.group, "error_cb": error_cb}))
        group_metadata = idle.consumer_group_metadata()
        idle.close()
        in_parts = sorted(producer.list_topics(getattr(args, "in"), timeout=left(deadline)).topics[getattr(args, "in")].partitions)
        producer.send_offsets_to_transaction(
            [TopicPartition(getattr(args, "in"), p, 1) for p in in_parts], group_metadata, left(deadline)
        )
        producer.flush(left(deadline))
        out({"held": True})
        sys.stdout.flush()
        while not os.path.exists(args.hold_file) and left(deadline) > 0:
            time.sleep(0.05)
        try:
            producer.commit_transaction(left(deadline))
            log("the held transaction committed: the producer was not fenced")
        except KafkaException as e:
            fenced = e.args[0].name()
            out({"fenced": fenced})
    out({"done": True, "count": read, "commits": commits, "aborts": aborts})
    sys.stdout.flush()
    return 0 if read >= args.count and (not args.hold_file or fenced) else 1


def offsets(args):
    consumer = Consumer(
        with_security({
            "bootstrap.servers": args.bootstrap,
            "group.id": f"interop-throwaway-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "error_cb": error_cb,
        })
    )
    timeout = args.timeout_ms / 1000
    try:
        md = consumer.list_topics(args.topic, timeout=timeout)
        tmd = md.topics.get(args.topic)
        if tmd is None or tmd.error is not None:
            log(f"topic {args.topic} metadata: {tmd.error if tmd else 'missing'}")
            return 1
        parts = sorted(tmd.partitions.keys())
        by_ts = consumer.offsets_for_times(
            [TopicPartition(args.topic, p, args.timestamp) for p in parts], timeout=timeout
        )
        by_ts = {tp.partition: tp.offset for tp in by_ts}
        for p in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=timeout, cached=False)
            t = by_ts.get(p, -1)
            out({"p": p, "earliest": low, "latest": high, "byTimestamp": t if t >= 0 else -1})
    finally:
        consumer.close()
    out({"done": True})
    sys.stdout.flush()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--compression", default="none", choices=["none", "gzip", "snappy", "lz4", "zstd"])
    p.add_argument("--create-partitions", type=int, default=0)
    p.add_argument("--acks", choices=["all", "1", "0"], default=None)
    p.add_argument("--timeout-ms", type=int, default=120000)
    c = sub.add_parser("consume")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--group", default=None)
    c.add_argument("--stop-file", default=None)
    c.add_argument("--assignor", choices=["range", "roundrobin", "cooperative-sticky", "uniform"], default=None)
    c.add_argument("--group-protocol", choices=["classic", "consumer"], default="classic")
    c.add_argument("--timeout-ms", type=int, default=60000)
    c.add_argument("--isolation", choices=["read_committed", "read_uncommitted"], default=None)
    x = sub.add_parser("txn")
    x.add_argument("--bootstrap", required=True)
    for flag in ("--in", "--out", "--group", "--txn-id"):
        x.add_argument(flag, required=True)
    x.add_argument("--count", type=int, required=True)
    x.add_argument("--abort-every", type=int, default=0)
    x.add_argument("--hold-file", default=None)
    x.add_argument("--timeout-ms", type=int, default=60000)
    s = sub.add_parser("share-consume")
    s.add_argument("--bootstrap", required=True)
    s.add_argument("--topic", required=True)
    s.add_argument("--group", required=True)
    s.add_argument("--count", type=int, default=2**31 - 1)
    s.add_argument("--ack", choices=["accept", "release", "reject", "none", "crash"], default="accept")
    s.add_argument("--stop-file", default=None)
    s.add_argument("--hold-ms", type=int, default=0)
    s.add_argument("--timeout-ms", type=int, default=60000)
    o = sub.add_parser("offsets")
    o.add_argument("--bootstrap", required=True)
    o.add_argument("--topic", required=True)
    o.add_argument("--timestamp", type=int, required=True)
    o.add_argument("--timeout-ms", type=int, default=30000)
    for sp in (p, c, x, s, o):
        security.add_arguments(sp)
    args = ap.parse_args()
    SECURITY.update(security.conf(args))
    if args.security_protocol is not None:
        check_connection(args)
    try:
        code = {"produce": produce, "consume": consume, "offsets": offsets, "txn": txn, "share-consume": share_consume}[args.cmd](args)
    except Exception as e:  # noqa: BLE001 - any failure is reported and exits non-zero
        log(f"{args.cmd} failed: {e!r}")
        if not PROGRESS["done"] and args.cmd == "produce":
            out({"done": True, "count": PROGRESS["count"], "errors": args.count - PROGRESS["count"]})
        elif not PROGRESS["done"] and args.cmd in ("consume", "share-consume"):
            out({"done": True, "count": PROGRESS["count"]})
        sys.stdout.flush()
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
