#!/usr/bin/env python3
"""Share group (KIP-932) latency client for bench/share_groups.ts: librdkafka's share consumer
(confluent-kafka ShareConsumer, explicit acknowledgement), the same against every broker.

  share_perf.py release --bootstrap B --topic T --group G --records N [--rounds R]
      One consumer. Each record it is handed is released R times and then accepted; the latency
      of a redelivery is from the moment commit_sync confirmed the release to the poll that hands
      the record over again (delivery count raised). Prints percentiles in ms as JSON.

  share_perf.py expiry --bootstrap B --topic T --group G --records N --lock-ms L
      Two consumers. The first takes a poll's records and holds them without acknowledging; the
      second polls until it is handed them, after their acquisition lock expired. Prints how long
      after the lock's end (first hand-over + L) each came back, as percentiles in ms.

Diagnostics go to stderr; the last stdout line is the JSON result. Bounded by --timeout-ms.
"""

import argparse
import json
import sys
import time

from confluent_kafka import AcknowledgeType, ShareConsumer


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def consumer(args):
    return ShareConsumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "share.acknowledgement.mode": "explicit",
            "error_cb": lambda e: log(f"client error: {e}"),
        }
    )


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(values):
    return {
        "samples": len(values),
        "p50": pct(values, 50),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "max": max(values) if values else None,
    }


def release(args):
    c = consumer(args)
    c.subscribe([args.topic])
    deadline = time.monotonic() + args.timeout_ms / 1000
    released_at = {}  # offset -> monotonic time its last release was confirmed
    latencies = []
    done = set()
    while len(done) < args.records and time.monotonic() < deadline:
        got = [m for m in c.poll(timeout=0.5) if m.error() is None]
        now = time.monotonic()
        if not got:
            continue
        rel = []
        for m in got:
            o = m.offset()
            if o in released_at:
                latencies.append((now - released_at.pop(o)) * 1000)
            if (m.delivery_count() or 1) <= args.rounds:
                c.acknowledge(m, AcknowledgeType.RELEASE)
                rel.append(o)
            else:
                c.acknowledge(m, AcknowledgeType.ACCEPT)
                done.add(o)
        res = c.commit_sync(timeout=10)
        t = time.monotonic()
        if any(e is not None for e in res.values()):
            log(f"acknowledgement failed: {res}")
        for o in rel:
            released_at[o] = t
    c.close()
    out = summary(latencies)
    out["accepted"] = len(done)
    print(json.dumps(out))
    return 0 if len(done) >= args.records else 1


def expiry(args):
    holder = consumer(args)
    holder.subscribe([args.topic])
    deadline = time.monotonic() + args.timeout_ms / 1000
    held = {}
    while not held and time.monotonic() < deadline:
        for m in holder.poll(timeout=0.5):
            if m.error() is None:
                held[m.offset()] = time.time()
    log(f"holding {len(held)} records")
    other = consumer(args)
    other.subscribe([args.topic])
    late = []
    while len(late) < len(held) and time.monotonic() < deadline:
        got = [m for m in other.poll(timeout=0.2) if m.error() is None]
        now = time.time()
        for m in got:
            if m.offset() in held:
                late.append((now - held[m.offset()]) * 1000 - args.lock_ms)
            other.acknowledge(m, AcknowledgeType.ACCEPT)
        if got:
            other.commit_sync(timeout=10)
    other.close()
    # The holder never acknowledged: what it had is accepted by the other one already.
    holder.close()
    out = summary(late)
    out["held"] = len(held)
    print(json.dumps(out))
    return 0 if held and len(late) == len(held) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["release", "expiry"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--lock-ms", type=int, default=15000)
    ap.add_argument("--timeout-ms", type=int, default=120000)
    args = ap.parse_args()
    sys.exit({"release": release, "expiry": expiry}[args.mode](args))


if __name__ == "__main__":
    main()
