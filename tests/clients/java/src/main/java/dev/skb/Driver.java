package dev.skb;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Interop driver for the Kafka Java client (kafka-clients), following tests/clients/CONTRACT.md.
 *
 * <pre>
 * Driver produce --bootstrap HOST:PORT --topic T --count N [--start S] [--compression C]
 *                [--create-partitions P] [--acks all|1|0] [--timeout-ms MS]
 * Driver consume --bootstrap HOST:PORT --topic T --count N [--group G]
 *                [--group-protocol classic|consumer] [--assignor A] [--stop-file F]
 *                [--timeout-ms MS]
 * Driver offsets --bootstrap HOST:PORT --topic T --timestamp MS [--timeout-ms MS]
 * Driver admin --bootstrap HOST:PORT --group G --action list|describe|offsets|alter|delete
 *              [--topic T --partition P --offset O] [--timeout-ms MS]
 * Driver txn --bootstrap HOST:PORT --in T --out T --group G --txn-id ID --count N
 *            [--abort-every K] [--hold-file F] [--timeout-ms MS]
 * Driver share-consume --bootstrap HOST:PORT --topic T --group G [--count N]
 *                      [--ack accept|release|none] [--stop-file F] [--timeout-ms MS]
 * Driver --check
 * </pre>
 *
 * JSON lines go to stdout, diagnostics to stderr. Every command is bounded in time: a watchdog
 * halts the JVM shortly after the command's timeout if the client has not returned by then.
 */
public final class Driver {
  private static final PrintStream OUT =
      new PrintStream(
          new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
          false,
          StandardCharsets.UTF_8);
  private static final Base64.Encoder B64 = Base64.getEncoder();

  private static final Set<String> COMMAND_FLAGS =
      Set.of(
          "bootstrap", "topic", "count", "start", "compression", "create-partitions", "acks",
          "group", "group-protocol", "timeout-ms", "timestamp", "assignor", "stop-file", "action",
          "partition", "offset", "isolation", "in", "out", "txn-id", "abort-every",
          "hold-file", "ack", "hold-ms");
  private static final Set<String> FLAGS = union(COMMAND_FLAGS, Security.FLAGS);

  private Driver() {}

  public static void main(String[] argv) {
    if (argv.length == 1 && argv[0].equals("--check")) {
      // Loading the client classes proves the classpath is complete.
      System.err.println("java driver ok: kafka-clients " + clientVersion());
      System.exit(0);
    }
    int code;
    String cmd = argv.length > 0 ? argv[0] : "";
    try {
      Map<String, String> a = parseArgs(argv);
      Security.configure(a);
      // CONTRACT.md "Security": with --security-protocol, the cluster must answer first.
      if (Security.enabled() && !Security.check(req(a, "bootstrap"), OUT)) {
        OUT.flush();
        System.exit(1);
      }
      code =
          switch (cmd) {
            case "produce" -> produce(a);
            case "consume" -> consume(a);
            case "offsets" -> offsets(a);
            case "admin" -> admin(a);
            case "txn" -> txn(a);
            case "share-consume" -> ShareConsume.run(a, OUT);
            default -> throw new IllegalArgumentException("unknown command: '" + cmd + "'");
          };
    } catch (Exception e) {
      log(cmd + " failed: " + e);
      Security.report(e, OUT);
      code = 1;
    }
    OUT.flush();
    System.exit(code);
  }

  // ---- the records (CONTRACT.md) ----

  static byte[] key(long i) {
    return i % 10 == 3 ? null : utf8("key-" + i);
  }

  static byte[] value(long i) {
    return i % 10 == 7 ? null : utf8("value-" + i + "-" + "x".repeat((int) (i % 100)));
  }

  static RecordHeaders headers(long i) {
    RecordHeaders h = new RecordHeaders();
    if (i % 5 != 0) {
      h.add("trace", utf8("t-" + i));
      h.add("idx", utf8(Long.toString(i)));
    }
    return h;
  }

  // ---- produce ----

  static int produce(Map<String, String> a) throws Exception {
    String bootstrap = req(a, "bootstrap");
    String topic = req(a, "topic");
    int count = Integer.parseInt(req(a, "count"));
    long start = Long.parseLong(a.getOrDefault("start", "0"));
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "120000"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    watchdog(timeoutMs + 30_000);

    if (a.containsKey("create-partitions")) {
      createTopic(bootstrap, topic, Integer.parseInt(a.get("create-partitions")), timeoutMs);
    }

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.putAll(Security.props());
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, a.getOrDefault("compression", "none"));
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(Math.min(60_000, timeoutMs)));
    if (a.containsKey("acks")) props.put(ProducerConfig.ACKS_CONFIG, a.get("acks"));

    int[] partition = new int[count];
    long[] offset = new long[count];
    boolean[] acked = new boolean[count];
    AtomicInteger errors = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Exception> firstError = new java.util.concurrent.atomic.AtomicReference<>();
    CountDownLatch pending = new CountDownLatch(count);
    int unsent = 0;

    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
    try {
      for (int n = 0; n < count; n++) {
        if (System.nanoTime() - deadline > 0) {
          // send() blocks up to max.block.ms when the broker is unreachable: stop at the timeout.
          log((count - n) + " records not sent before the timeout");
          errors.addAndGet(count - n);
          for (int r = n; r < count; r++) pending.countDown();
          break;
        }
        final int idx = n;
        long i = start + n;
        ProducerRecord<byte[], byte[]> rec =
            new ProducerRecord<>(topic, null, null, key(i), value(i), headers(i));
        try {
          producer.send(
              rec,
              (md, err) -> {
                if (err != null) {
                  firstError.compareAndSet(null, err);
                  errors.incrementAndGet();
                  log("record " + (start + idx) + ": delivery failed: " + err);
                } else {
                  partition[idx] = md.partition();
                  offset[idx] = md.offset();
                  acked[idx] = true;
                }
                pending.countDown();
              });
        } catch (Exception e) {
          log("record " + i + ": send failed: " + e);
          firstError.compareAndSet(null, e);
          errors.incrementAndGet();
          pending.countDown();
        }
      }
      long left = deadline - System.nanoTime();
      if (!pending.await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
        unsent = (int) pending.getCount();
        log(unsent + " records still undelivered at the timeout");
      }
    } finally {
      // With a zero timeout, close fails whatever is still in flight instead of waiting.
      producer.close(unsent > 0 ? Duration.ZERO : Duration.ofSeconds(10));
    }

    int ok = 0;
    StringBuilder sb = new StringBuilder(64);
    for (int n = 0; n < count; n++) {
      if (!acked[n]) continue;
      ok++;
      sb.setLength(0);
      sb.append("{\"i\":").append(start + n)
          .append(",\"p\":").append(partition[n])
          .append(",\"o\":").append(offset[n]).append('}');
      OUT.println(sb);
    }
    int errs = errors.get() + unsent;
    OUT.println("{\"done\":true,\"count\":" + ok + ",\"errors\":" + errs + "}");
    if (firstError.get() != null) Security.report(firstError.get(), OUT);
    return ok == count && errs == 0 ? 0 : 1;
  }

  static void createTopic(String bootstrap, String topic, int partitions, long timeoutMs)
      throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.putAll(Security.props());
    try (Admin admin = Admin.create(props)) {
      try {
        admin
            .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
            .all()
            .get(timeoutMs, TimeUnit.MILLISECONDS);
        log("created topic " + topic + " with " + partitions + " partitions");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
        log("topic " + topic + " already exists");
      }
    }
  }

  // ---- consume ----

  static int consume(Map<String, String> a) {
    if (a.containsKey("group")) return consumeGroup(a);
    String topic = req(a, "topic");
    int count = Integer.parseInt(req(a, "count"));
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "60000"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    watchdog(timeoutMs + 30_000);

    Properties props = consumerProps(req(a, "bootstrap"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (a.containsKey("isolation")) props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, a.get("isolation"));

    int read = 0;
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
    try {
      List<TopicPartition> tps = partitions(consumer, topic, deadline);
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      StringBuilder sb = new StringBuilder(256);
      outer:
      while (read < count) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) break;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(Math.min(1000, left)))) {
          appendRecord(sb, r);
          OUT.println(sb);
          if (++read >= count) break outer;
        }
      }
      if (read < count) log("read " + read + " of " + count + " records before the timeout");
    } finally {
      // Leaves the group (committing with a group) within a bounded time.
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
    }
    OUT.println("{\"done\":true,\"count\":" + read + "}");
    return read >= count ? 0 : 1;
  }

  // ---- consume as a group member (CONTRACT.md: "Group members") ----

  static final Map<String, String> ASSIGNORS =
      Map.of(
          "range", "org.apache.kafka.clients.consumer.RangeAssignor",
          "roundrobin", "org.apache.kafka.clients.consumer.RoundRobinAssignor",
          "sticky", "org.apache.kafka.clients.consumer.StickyAssignor",
          "cooperative-sticky", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");

  static int consumeGroup(Map<String, String> a) {
    String topic = req(a, "topic");
    int count = Integer.parseInt(req(a, "count"));
    String group = req(a, "group");
    Path stopFile = a.containsKey("stop-file") ? Path.of(a.get("stop-file")) : null;
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "60000"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    watchdog(timeoutMs + 30_000);

    Properties props = consumerProps(req(a, "bootstrap"));
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    String protocol = a.getOrDefault("group-protocol", "classic");
    props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
    if (a.containsKey("assignor")) {
      String assignor = a.get("assignor");
      if (protocol.equals("consumer")) {
        // KIP-848: the broker assigns; the client names a server-side assignor.
        props.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, assignor);
      } else {
        String cls = ASSIGNORS.get(assignor);
        if (cls == null) throw new IllegalArgumentException("unknown assignor: '" + assignor + "'");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, cls);
      }
    }

    // Next offset to commit per partition: printed, not yet committed.
    Map<Integer, Long> pending = new TreeMap<>();
    int read = 0;
    boolean stopped = false;
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
    try {
      consumer.subscribe(
          List.of(topic),
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
              // Hand over exactly what was printed.
              commit(consumer, topic, pending);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              log("assigned " + partitions);
            }
          });
      StringBuilder sb = new StringBuilder(256);
      while (read < count) {
        if (stopFile != null && Files.exists(stopFile)) {
          stopped = true;
          break;
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) break;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(Math.min(200, left)))) {
          if (read >= count) break;
          appendRecord(sb, r);
          sb.setLength(sb.length() - 1);
          sb.append(",\"at\":").append(System.currentTimeMillis()).append('}');
          OUT.println(sb);
          pending.put(r.partition(), r.offset() + 1);
          read++;
        }
        commit(consumer, topic, pending);
        OUT.flush();
      }
      commit(consumer, topic, pending);
      if (read < count && !stopped) log("read " + read + " of " + count + " records before the timeout");
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
    }
    OUT.println("{\"done\":true,\"count\":" + read + "}");
    return read >= count || stopped ? 0 : 1;
  }

  /** Commits the pending offsets synchronously; prints them when the group took them. */
  static void commit(KafkaConsumer<byte[], byte[]> consumer, String topic, Map<Integer, Long> pending) {
    if (pending.isEmpty()) return;
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    StringBuilder sb = new StringBuilder("{\"commit\":[");
    for (Map.Entry<Integer, Long> e : pending.entrySet()) {
      offsets.put(new TopicPartition(topic, e.getKey()), new OffsetAndMetadata(e.getValue()));
      if (sb.charAt(sb.length() - 1) != '[') sb.append(',');
      sb.append('[').append(e.getKey()).append(',').append(e.getValue()).append(']');
    }
    pending.clear();
    try {
      consumer.commitSync(offsets, Duration.ofSeconds(10));
      OUT.println(sb.append("],\"at\":").append(System.currentTimeMillis()).append('}'));
    } catch (Exception e) {
      // The records may be read again by whoever owns the partitions next.
      log("commit of " + offsets + " failed: " + e);
    }
  }

  // ---- admin: consumer groups through the AdminClient ----

  static int admin(Map<String, String> a) throws Exception {
    String group = req(a, "group");
    String action = req(a, "action");
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "30000"));
    watchdog(timeoutMs + 30_000);
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, req(a, "bootstrap"));
    props.putAll(Security.props());
    try (Admin admin = Admin.create(props)) {
      switch (action) {
        case "list" -> {
          for (GroupListing g : admin.listGroups().all().get(timeoutMs, TimeUnit.MILLISECONDS)) {
            OUT.println(
                "{\"group\":" + jsonString(g.groupId())
                    + ",\"state\":" + jsonString(g.groupState().map(Object::toString).orElse(""))
                    + ",\"type\":" + jsonString(g.type().map(Object::toString).orElse(""))
                    + ",\"protocol\":" + jsonString(g.protocol()) + "}");
          }
        }
        case "describe" -> {
          ConsumerGroupDescription d =
              admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                  .get(timeoutMs, TimeUnit.MILLISECONDS);
          StringBuilder sb = new StringBuilder();
          sb.append("{\"group\":").append(jsonString(d.groupId()))
              .append(",\"state\":").append(jsonString(d.groupState().toString()))
              .append(",\"type\":").append(jsonString(d.type().toString()))
              .append(",\"assignor\":").append(jsonString(d.partitionAssignor()))
              .append(",\"coordinator\":").append(d.coordinator() == null ? -1 : d.coordinator().port())
              .append(",\"members\":[");
          boolean first = true;
          for (MemberDescription m : d.members()) {
            if (!first) sb.append(',');
            first = false;
            sb.append("{\"id\":").append(jsonString(m.consumerId()))
                .append(",\"client\":").append(jsonString(m.clientId()))
                .append(",\"host\":").append(jsonString(m.host()))
                .append(",\"partitions\":[");
            List<Integer> ps = new ArrayList<>();
            for (TopicPartition tp : m.assignment().topicPartitions()) ps.add(tp.partition());
            ps.sort(Integer::compare);
            for (int k = 0; k < ps.size(); k++) sb.append(k == 0 ? "" : ",").append(ps.get(k));
            sb.append("]}");
          }
          OUT.println(sb.append("]}"));
        }
        case "offsets" -> {
          Map<TopicPartition, OffsetAndMetadata> offsets =
              admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                  .get(timeoutMs, TimeUnit.MILLISECONDS);
          List<TopicPartition> tps = new ArrayList<>(offsets.keySet());
          tps.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
          for (TopicPartition tp : tps) {
            OffsetAndMetadata o = offsets.get(tp);
            OUT.println(
                "{\"topic\":" + jsonString(tp.topic()) + ",\"p\":" + tp.partition()
                    + ",\"offset\":" + (o == null ? -1 : o.offset())
                    + ",\"metadata\":" + (o == null ? "null" : jsonString(o.metadata())) + "}");
          }
        }
        case "alter" -> {
          TopicPartition tp = new TopicPartition(req(a, "topic"), Integer.parseInt(req(a, "partition")));
          admin.alterConsumerGroupOffsets(
                  group, Map.of(tp, new OffsetAndMetadata(Long.parseLong(req(a, "offset")), "reset by admin")))
              .all().get(timeoutMs, TimeUnit.MILLISECONDS);
          OUT.println("{\"altered\":true}");
        }
        case "delete" -> {
          try {
            admin.deleteConsumerGroups(List.of(group)).all().get(timeoutMs, TimeUnit.MILLISECONDS);
            OUT.println("{\"deleted\":true}");
          } catch (ExecutionException e) {
            OUT.println("{\"deleted\":false,\"error\":" + jsonString(e.getCause().getClass().getSimpleName()) + "}");
          }
        }
        default -> throw new IllegalArgumentException("unknown admin action: '" + action + "'");
      }
    }
    OUT.println("{\"done\":true}");
    return 0;
  }

  // ---- offsets ----

  static int offsets(Map<String, String> a) {
    String topic = req(a, "topic");
    long timestamp = Long.parseLong(req(a, "timestamp"));
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "30000"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    watchdog(timeoutMs + 30_000);
    Duration timeout = Duration.ofMillis(timeoutMs);

    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(consumerProps(req(a, "bootstrap")))) {
      List<TopicPartition> tps = partitions(consumer, topic, deadline);
      if (tps.isEmpty()) throw new IllegalStateException("topic " + topic + " has no partitions");
      Map<TopicPartition, Long> earliest = consumer.beginningOffsets(tps, timeout);
      Map<TopicPartition, Long> latest = consumer.endOffsets(tps, timeout);
      Map<TopicPartition, Long> query = new HashMap<>();
      for (TopicPartition tp : tps) query.put(tp, timestamp);
      Map<TopicPartition, OffsetAndTimestamp> byTs = consumer.offsetsForTimes(query, timeout);
      for (TopicPartition tp : tps) {
        OffsetAndTimestamp t = byTs.get(tp);
        OUT.println(
            "{\"p\":" + tp.partition()
                + ",\"earliest\":" + earliest.get(tp)
                + ",\"latest\":" + latest.get(tp)
                + ",\"byTimestamp\":" + (t == null ? -1 : t.offset()) + "}");
      }
    }
    OUT.println("{\"done\":true}");
    return 0;
  }

  // ---- helpers ----

  /** The contract's JSON line for a record, in sb (cleared first). */
  // ---- consume-transform-produce in transactions (CONTRACT.md: "Transactions") ----

  static int txn(Map<String, String> a) throws Exception {
    String bootstrap = req(a, "bootstrap");
    String in = req(a, "in");
    String out = req(a, "out");
    String group = req(a, "group");
    int count = Integer.parseInt(req(a, "count"));
    int abortEvery = Integer.parseInt(a.getOrDefault("abort-every", "0"));
    String holdFile = a.get("hold-file");
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "60000"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    watchdog(timeoutMs + 30_000);

    Properties cp = consumerProps(bootstrap);
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.putAll(Security.props());
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, req(a, "txn-id"));

    int read = 0;
    int commits = 0;
    int aborts = 0;
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
    producer.initTransactions();
    int outPartitions = producer.partitionsFor(out).size();
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
    try {
      consumer.subscribe(List.of(in));
      while (read < count) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) break;
        var polled = consumer.poll(Duration.ofMillis(Math.min(1000, left)));
        if (polled.isEmpty()) continue;
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : polled) {
          producer.send(new ProducerRecord<>(out, r.partition(), r.key(), utf8(r.partition() + ":" + r.offset())));
          next.put(new TopicPartition(in, r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
        producer.commitTransaction();
        read += polled.count();
        commits++;
        printTxn("commit", next, polled.count());
        if (abortEvery > 0 && commits % abortEvery == 0) {
          abortOne(producer, consumer, in, out, outPartitions, next.keySet(), aborts++);
        }
      }
      if (read >= count) abortOne(producer, consumer, in, out, outPartitions, consumer.assignment(), aborts++);
    } finally {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
    }
    String fenced = null;
    if (holdFile != null) {
      producer.beginTransaction();
      for (int p = 0; p < outPartitions; p++) producer.send(new ProducerRecord<>(out, p, null, utf8("held:" + p)));
      // Offsets the fencing must discard with the rest (the group alone: the member has left).
      Map<TopicPartition, OffsetAndMetadata> bogus = new HashMap<>();
      for (var pi : producer.partitionsFor(in)) bogus.put(new TopicPartition(in, pi.partition()), new OffsetAndMetadata(1));
      producer.sendOffsetsToTransaction(bogus, new ConsumerGroupMetadata(group));
      producer.flush();
      OUT.println("{\"held\":true}");
      OUT.flush();
      while (!Files.exists(Path.of(holdFile)) && System.nanoTime() < deadline) sleep(50);
      try {
        producer.commitTransaction();
        log("the held transaction committed: the producer was not fenced");
      } catch (Exception e) {
        fenced = e.getClass().getSimpleName();
        OUT.println("{\"fenced\":" + jsonString(fenced) + "}");
      }
    }
    producer.close(Duration.ofSeconds(10));
    OUT.println("{\"done\":true,\"count\":" + read + ",\"commits\":" + commits + ",\"aborts\":" + aborts + "}");
    return read >= count && (holdFile == null || fenced != null) ? 0 : 1;
  }

  /** One aborted transaction: a record to every partition of out, and offsets 1 of `tps` for the group. */
  static void abortOne(
      KafkaProducer<byte[], byte[]> producer,
      KafkaConsumer<byte[], byte[]> consumer,
      String in,
      String out,
      int outPartitions,
      Collection<TopicPartition> tps,
      int n) {
    producer.beginTransaction();
    for (int p = 0; p < outPartitions; p++) {
      producer.send(new ProducerRecord<>(out, p, null, utf8("aborted:" + n + ":" + p)));
    }
    Map<TopicPartition, OffsetAndMetadata> bogus = new HashMap<>();
    for (TopicPartition tp : tps) bogus.put(new TopicPartition(in, tp.partition()), new OffsetAndMetadata(1));
    if (!bogus.isEmpty()) producer.sendOffsetsToTransaction(bogus, consumer.groupMetadata());
    producer.flush();
    producer.abortTransaction();
    OUT.println("{\"abort\":" + outPartitions + "}");
    OUT.flush();
  }

  static void printTxn(String what, Map<TopicPartition, OffsetAndMetadata> next, int records) {
    StringBuilder sb = new StringBuilder("{\"" + what + "\":[");
    boolean first = true;
    for (var e : new TreeMap<Integer, Long>(
        next.entrySet().stream().collect(java.util.stream.Collectors.toMap(
            x -> x.getKey().partition(), x -> x.getValue().offset()))).entrySet()) {
      if (!first) sb.append(',');
      first = false;
      sb.append('[').append(e.getKey()).append(',').append(e.getValue()).append(']');
    }
    OUT.println(sb.append("],\"records\":").append(records).append('}'));
    OUT.flush();
  }

  static void appendRecord(StringBuilder sb, ConsumerRecord<byte[], byte[]> r) {
    sb.setLength(0);
    sb.append("{\"p\":").append(r.partition())
        .append(",\"o\":").append(r.offset())
        .append(",\"k\":").append(b64(r.key()))
        .append(",\"v\":").append(b64(r.value()))
        .append(",\"h\":[");
    boolean first = true;
    for (Header h : r.headers()) {
      if (!first) sb.append(',');
      first = false;
      sb.append('[').append(jsonString(h.key())).append(',').append(b64(h.value())).append(']');
    }
    sb.append("],\"ts\":").append(r.timestamp()).append('}');
  }

  static Properties consumerProps(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.putAll(Security.props());
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return props;
  }

  /** Every partition of the topic from metadata, sorted; retries until it shows up or the deadline. */
  static List<TopicPartition> partitions(
      KafkaConsumer<byte[], byte[]> consumer, String topic, long deadline) {
    while (true) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      try {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofMillis(Math.max(1, Math.min(5000, left))));
        if (infos != null && !infos.isEmpty()) {
          List<TopicPartition> tps = new ArrayList<>();
          for (PartitionInfo pi : infos) tps.add(new TopicPartition(topic, pi.partition()));
          tps.sort(Comparator.comparingInt(TopicPartition::partition));
          return tps;
        }
      } catch (Exception e) {
        if (left <= 0) throw e;
        log("metadata for " + topic + ": " + e);
      }
      if (left <= 0) {
        log("topic " + topic + " not found before the timeout");
        return List.of();
      }
      sleep(200);
    }
  }

  /** Halts the JVM if the command is still running after ms (a client call that hangs). */
  static void watchdog(long ms) {
    Thread t =
        new Thread(
            () -> {
              sleep(ms);
              OUT.flush();
              log("watchdog: still running after " + ms + " ms; giving up");
              Runtime.getRuntime().halt(1);
            },
            "watchdog");
    t.setDaemon(true);
    t.start();
  }

  static Set<String> union(Set<String> x, Set<String> y) {
    Set<String> u = new java.util.HashSet<>(x);
    u.addAll(y);
    return Set.copyOf(u);
  }

  static Map<String, String> parseArgs(String[] argv) {
    Map<String, String> a = new HashMap<>();
    for (int k = 1; k < argv.length; k++) {
      String flag = argv[k];
      if (!flag.startsWith("--") || !FLAGS.contains(flag.substring(2))) {
        throw new IllegalArgumentException("unknown argument: " + flag);
      }
      if (k + 1 >= argv.length) throw new IllegalArgumentException(flag + " needs a value");
      a.put(flag.substring(2), argv[++k]);
    }
    return a;
  }

  /** The kafka-clients version, from the properties file the client jar carries. */
  static String clientVersion() {
    Properties p = new Properties();
    try (var in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      if (in != null) p.load(in);
    } catch (java.io.IOException e) {
      // unknown
    }
    return p.getProperty("version", "unknown");
  }

  static String req(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) throw new IllegalArgumentException("--" + name + " is required");
    return v;
  }

  static String b64(byte[] b) {
    return b == null ? "null" : "\"" + B64.encodeToString(b) + "\"";
  }

  static String jsonString(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void log(String msg) {
    System.err.println(msg);
    System.err.flush();
  }
}
