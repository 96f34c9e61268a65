#!/usr/bin/env python3
"""kafka-python's KafkaAdminClient against a broker: the calls kafka-python 3.x's
own admin integration tests make (log dirs, quorum, reassignments, leader
election, DescribeTopicPartitions, topics, partitions, configs, groups, records).

Usage: kafka_python_admin.py --bootstrap HOST:PORT --topic T --partitions N
                             --other-topic T2 [--group G] [--timeout-ms MS]

The topics must exist, with records in every partition of both; the group
must not. No
api_version is pinned: the client negotiates with ApiVersions, so a broker it
thinks too old shows up as IncompatibleBrokerVersion.

Prints one JSON line per call: {"call": NAME, "ok": RESULT} or
{"call": NAME, "error": ERROR_CLASS_NAME, "message": TEXT}. Exits 0 when every
call ran (whatever it answered), 1 when the client could not even start.
"""

import argparse
import enum
import json
import sys
import time
import traceback
import uuid

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
import kafka


def jsonable(x):
    """Turns what kafka-python answers (tuples, TopicPartitions, error classes,
    UUIDs, bytes, response objects) into plain JSON."""
    if isinstance(x, type) and issubclass(x, BaseException):
        return x.__name__
    if isinstance(x, BaseException):
        return type(x).__name__
    if isinstance(x, enum.Enum):
        return x.name
    if isinstance(x, TopicPartition):
        return "%s/%d" % (x.topic, x.partition)
    if isinstance(x, dict):
        return {(k if isinstance(k, str) else json.dumps(jsonable(k)).strip('"')): jsonable(v)
                for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if isinstance(x, uuid.UUID):
        return str(x)
    if isinstance(x, (bytes, bytearray)):
        return x.decode("utf-8", "replace")
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    if hasattr(x, "to_dict"):
        return jsonable(x.to_dict())
    return repr(x)


def emit(call, fn):
    try:
        out = {"call": call, "ok": jsonable(fn())}
    except Exception as e:  # noqa: BLE001 -- every failure is reported, by class name
        out = {"call": call, "error": type(e).__name__, "message": str(e)[:500]}
    print(json.dumps(out, sort_keys=True), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--other-topic", required=True)
    ap.add_argument("--group", default="kp-group")
    ap.add_argument("--timeout-ms", type=int, default=10000)
    args = ap.parse_args()
    t, t2, n, timeout_ms = args.topic, args.other_topic, args.partitions, args.timeout_ms
    suffix = str(int(time.time() * 1000))

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=args.bootstrap,
            client_id="kafka-python-admin-test",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"call": "connect", "error": type(e).__name__, "message": str(e)[:500]}),
              flush=True)
        traceback.print_exc()
        return 1
    emit("version", lambda: kafka.__version__)

    # Cluster.
    emit("describe_cluster", admin.describe_cluster)
    emit("brokers", lambda: [b.node_id for b in admin._manager.cluster.brokers()])
    emit("describe_metadata_quorum", admin.describe_metadata_quorum)
    emit("describe_log_dirs", admin.describe_log_dirs)
    emit("describe_log_dirs_topic", lambda: admin.describe_log_dirs({t: list(range(n))}))
    emit("describe_features", admin.describe_features)

    # Topics and partitions.
    emit("list_topics", admin.list_topics)
    emit("describe_topics", lambda: admin.describe_topics([t, t2]))
    emit("describe_topic_partitions", lambda: admin.describe_topic_partitions([t]))

    def paged():
        first = admin.describe_topic_partitions([t], response_partition_limit=1)
        if first["next_cursor"] is None:
            return {"first": first, "next": None}
        return {"first": first, "next": admin.describe_topic_partitions(
            [t], response_partition_limit=10, cursor=first["next_cursor"])}
    emit("describe_topic_partitions_paged", paged)

    emit("elect_leaders", lambda: admin.elect_leaders(0, {t: list(range(n))}))
    emit("alter_partition_reassignments",
         lambda: admin.alter_partition_reassignments(
             {TopicPartition(t, 0): [b.node_id for b in admin._manager.cluster.brokers()]}))
    emit("list_partition_reassignments", admin.list_partition_reassignments)
    emit("list_partition_reassignments_scoped",
         lambda: admin.list_partition_reassignments([TopicPartition(t, 0)]))

    created = ["kp-new-%s-%d" % (suffix, i) for i in range(3)]
    emit("create_topics_newtopic", lambda: admin.create_topics([NewTopic(created[0], 1, 1)]))
    emit("create_topics_dict",
         lambda: admin.create_topics({created[1]: {"num_partitions": 1, "replication_factor": 1}}))
    emit("create_topics_names", lambda: admin.create_topics([created[2]]))
    emit("create_partitions", lambda: admin.create_partitions({created[0]: NewPartitions(3)}))
    emit("describe_topics_grown", lambda: admin.describe_topics([created[0]]))
    emit("delete_topics", lambda: admin.delete_topics(created))

    # Configs.
    # kafka-python 3.0's describe_configs keeps only modified (non-default) keys unless
    # config_filter says otherwise: ask for all of them, and for the modified ones too.
    def broker_resource():
        return ConfigResource(ConfigResourceType.BROKER, admin._client.least_loaded_node())
    emit("describe_configs_broker",
         lambda: admin.describe_configs([broker_resource()], config_filter="all"))
    emit("describe_configs_broker_modified", lambda: admin.describe_configs([broker_resource()]))
    emit("describe_configs_topic",
         lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)],
                                        config_filter="all"))
    emit("describe_configs_mixed",
         lambda: admin.describe_configs(
             [ConfigResource(ConfigResourceType.TOPIC, t), broker_resource()], config_filter="all"))

    def bad_broker_id():
        try:
            admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "str")])
        except ValueError:
            return "ValueError"
        return "no ValueError"
    emit("describe_configs_invalid_broker_id", bad_broker_id)
    emit("alter_configs",
         lambda: admin.alter_configs(
             [ConfigResource(ConfigResourceType.TOPIC, t2, configs={"retention.ms": "3600000"})]))
    emit("describe_configs_altered",
         lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t2)]))

    # Groups: one live consumer, then the group empty.
    group = args.group
    consumer = None
    try:
        consumer = KafkaConsumer(
            t, bootstrap_servers=args.bootstrap, group_id=group, auto_offset_reset="earliest",
            request_timeout_ms=timeout_ms + 5000, session_timeout_ms=10000,
            heartbeat_interval_ms=1000)
        deadline = time.monotonic() + timeout_ms / 1000
        got = 0
        while time.monotonic() < deadline and (not consumer.assignment() or got == 0):
            got += sum(len(v) for v in consumer.poll(timeout_ms=500).values())
        consumer.commit()
        emit("consumer_assignment", lambda: sorted(consumer.assignment(), key=lambda p: p.partition))
        emit("list_groups", admin.list_groups)
        emit("describe_groups", lambda: admin.describe_groups([group]))
        emit("delete_groups_live",
             lambda: admin.delete_groups([group, group + "-missing"]))
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"call": "consumer", "error": type(e).__name__, "message": str(e)[:500]}),
              flush=True)
    finally:
        if consumer is not None:
            consumer.close()
    emit("list_group_offsets", lambda: admin.list_group_offsets({group: None}))
    emit("delete_groups", lambda: admin.delete_groups([group]))
    emit("list_groups_after", admin.list_groups)

    # Records.
    emit("delete_records", lambda: admin.delete_records({TopicPartition(t2, 0): 1}, timeout_ms=timeout_ms))
    emit("delete_records_unknown",
         lambda: admin.delete_records({TopicPartition(t, 9999): -1}, timeout_ms=timeout_ms))

    admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
