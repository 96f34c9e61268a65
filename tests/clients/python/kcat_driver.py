#!/usr/bin/env python3
"""Interop driver for kcat (tests/clients/CONTRACT.md); run through tests/clients/kcat_driver.sh.

kcat is a command-line tool, so this script runs it as a subprocess and turns its output into
the contract's JSON lines:

- produce: kcat sets headers per run (-H), not per message, and every contract record with
  headers has its own, so each record is one kcat run (-K key delimiter, -Z for nulls). The
  delivery report (partition, offset) is read from kcat's verbose output (-vv). This is slow
  (one connection per record): meant for small counts. kcat has no admin API, so
  --create-partitions creates the topic through confluent-kafka's AdminClient.
- consume: kcat -C -J (assigns every partition from the beginning; no group), or kcat -G G -J
  with auto.offset.reset=earliest.
- offsets: kcat -Q with the timestamps -2 (earliest), -1 (latest) and MS.
"""

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import security  # noqa: E402

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
SECURITY = {}  # librdkafka settings from the security flags, given to every kcat run as -X


def xflags():
    out = []
    for k, v in SECURITY.items():
        out += ["-X", f"{k}={v}"]
    return out
KEY_DELIM = "\x01"
DELIVERED = re.compile(r"Message delivered to partition (-?\d+) \(offset (-?\d+)\)")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


PROGRESS = {"count": 0, "done": False}  # records printed so far; whether the final line is out


def out(obj):
    if obj.get("done"):
        PROGRESS["done"] = True
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def record(i):
    key = None if i % 10 == 3 else f"key-{i}"
    value = None if i % 10 == 7 else f"value-{i}-{'x' * (i % 100)}"
    headers = [] if i % 5 == 0 else [("trace", f"t-{i}"), ("idx", str(i))]
    return key, value, headers


def b64text(s):
    return None if s is None else base64.b64encode(s.encode("utf-8")).decode("ascii")


def create_topic(bootstrap, topic, partitions, timeout):
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, **SECURITY})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    for name, fut in futures.items():
        try:
            fut.result(timeout=timeout)
            log(f"created topic {name} (through confluent-kafka: kcat has no admin API)")
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            log(f"topic {name} already exists")


def produce(args):
    if args.create_partitions:
        create_topic(args.bootstrap, args.topic, args.create_partitions, max(1.0, args.timeout_ms / 1000))
    base = [KCAT, *xflags(), "-P", "-b", args.bootstrap, "-t", args.topic, "-K", "\\x01", "-Z", "-vv", "-m", "10"]
    base += ["-X", f"compression.codec={args.compression}"]
    if args.acks is not None:
        base += ["-X", f"acks={'-1' if args.acks == 'all' else args.acks}"]
    deadline = time.monotonic() + args.timeout_ms / 1000
    acked = errors = 0
    for i in range(args.start, args.start + args.count):
        key, value, headers = record(i)
        cmd = list(base)
        for name, val in headers:
            cmd += ["-H", f"{name}={val}"]
        line = (key or "") + KEY_DELIM + (value or "") + "\n"
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise subprocess.TimeoutExpired(cmd, 0)
            res = subprocess.run(cmd, input=line.encode(), capture_output=True, timeout=left)
        except subprocess.TimeoutExpired:
            errors += 1
            log(f"record {i}: timed out")
            continue
        m = DELIVERED.search(res.stderr.decode(errors="replace"))
        if res.returncode != 0 or m is None:
            errors += 1
            log(f"record {i}: kcat exited {res.returncode}: {res.stderr.decode(errors='replace')[-500:]}")
            continue
        acked += 1
        PROGRESS["count"] += 1
        out({"i": i, "p": int(m.group(1)), "o": int(m.group(2))})
        if acked % 100 == 0:
            sys.stdout.flush()
    out({"done": True, "count": acked, "errors": errors})
    return 0 if acked == args.count and errors == 0 else 1


def consume(args):
    if args.group:
        cmd = [KCAT, *xflags(), "-b", args.bootstrap, "-G", args.group, "-X", "auto.offset.reset=earliest", args.topic]
    else:
        cmd = [KCAT, *xflags(), "-C", "-b", args.bootstrap, "-t", args.topic, "-o", "beginning"]
    cmd += ["-c", str(args.count), "-J", "-u", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr)
    # kcat exits by itself after -c records; at the timeout it is stopped (SIGTERM lets a
    # group member leave cleanly).
    timer = threading.Timer(args.timeout_ms / 1000, proc.terminate)
    timer.start()
    read = 0
    try:
        for raw in proc.stdout:
            if not raw.strip():
                continue
            m = json.loads(raw)
            hs = m.get("headers") or []
            out(
                {
                    "p": m["partition"],
                    "o": m["offset"],
                    "k": b64text(m.get("key")),
                    "v": b64text(m.get("payload")),
                    "h": [[hs[j], b64text(hs[j + 1])] for j in range(0, len(hs), 2)],
                    "ts": m["ts"],
                }
            )
            read += 1
            PROGRESS["count"] += 1
    finally:
        timer.cancel()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out({"done": True, "count": read})
    return 0 if read >= args.count else 1


def kcat_json(cmd, timeout):
    res = subprocess.run(cmd, capture_output=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr.decode(errors='replace')[-500:]}")
    return json.loads(res.stdout)


def offsets(args):
    timeout = args.timeout_ms / 1000
    md = kcat_json([KCAT, *xflags(), "-L", "-b", args.bootstrap, "-t", args.topic, "-J", "-m", "10"], timeout)
    topic = next(t for t in md["topics"] if t["topic"] == args.topic)
    parts = sorted(p["partition"] for p in topic["partitions"])

    def query(ts):
        cmd = [KCAT, *xflags(), "-Q", "-b", args.bootstrap, "-J", "-m", "10"]
        for p in parts:
            cmd += ["-t", f"{args.topic}:{p}:{ts}"]
        res = kcat_json(cmd, timeout)
        got = res.get(args.topic, {})
        return {p: int(got[str(p)]["offset"]) for p in parts if str(p) in got}

    earliest, latest, by_ts = query(-2), query(-1), query(args.timestamp)
    for p in parts:
        t = by_ts.get(p, -1)
        out({"p": p, "earliest": earliest[p], "latest": latest[p], "byTimestamp": t if t >= 0 else -1})
    out({"done": True})
    return 0


def check_connection(args):
    """CONTRACT.md "Security": kcat -L must list the cluster within the connect timeout. kcat logs
    librdkafka's errors on stderr and retries; a refused login or TLS failure ends it at once."""
    seconds = max(1, args.connect_timeout_ms // 1000)
    cmd = [KCAT, *xflags(), "-L", "-b", args.bootstrap, "-J", "-m", str(seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(seconds + 5, proc.kill)
    timer.start()
    last = ""
    try:
        for raw in proc.stderr:
            line = raw.decode(errors="replace").strip()
            log(f"kcat: {line}")
            if not line:
                continue
            last = line
            kind = security.kind_of("", line)
            if kind is not None:
                proc.kill()
                security.fail(kind, "kcat", line)
        code = proc.wait()
    finally:
        timer.cancel()
    if code != 0:
        security.fail("connection", "kcat", f"kcat -L found no broker within {seconds} s ({last})")


def main():
    ap = argparse.ArgumentParser(description="kcat interop driver")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--compression", default="none", choices=["none", "gzip", "snappy", "lz4", "zstd"])
    p.add_argument("--create-partitions", type=int, default=0)
    p.add_argument("--acks", choices=["all", "1", "0"], default=None)
    p.add_argument("--timeout-ms", type=int, default=600000)
    c = sub.add_parser("consume")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--group", default=None)
    c.add_argument("--timeout-ms", type=int, default=60000)
    o = sub.add_parser("offsets")
    o.add_argument("--bootstrap", required=True)
    o.add_argument("--topic", required=True)
    o.add_argument("--timestamp", type=int, required=True)
    o.add_argument("--timeout-ms", type=int, default=30000)
    for sp in (p, c, o):
        security.add_arguments(sp)
    args = ap.parse_args()
    if KCAT is None:
        log("kcat is not installed; run: apt-get install -y kcat")
        sys.exit(2)
    SECURITY.update(security.conf(args))
    if args.security_protocol is not None:
        check_connection(args)
    try:
        code = {"produce": produce, "consume": consume, "offsets": offsets}[args.cmd](args)
    except Exception as e:  # noqa: BLE001 - reported, non-zero exit
        log(f"{args.cmd} failed: {e!r}")
        if not PROGRESS["done"] and args.cmd == "produce":
            out({"done": True, "count": PROGRESS["count"], "errors": args.count - PROGRESS["count"]})
        elif not PROGRESS["done"] and args.cmd == "consume":
            out({"done": True, "count": PROGRESS["count"]})
        code = 1
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
