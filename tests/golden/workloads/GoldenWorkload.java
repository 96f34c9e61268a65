import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The golden-fixture workload for the Kafka Java client (tests/golden/README.md), run through
 * tools/capture_proxy.ts. Compiled and run by scripts/capture_golden.sh against the jars of the
 * interop driver (tests/clients/java/target/lib):
 *
 * <pre>
 * java -cp CLASSES:tests/clients/java/target/lib/* GoldenWorkload --bootstrap HOST:PORT [--prefix P]
 * </pre>
 *
 * Creates a topic, produces a few records with every codec (idempotently, the default, with
 * acks=1, and in a transaction with offsets), consumes by assignment and in a classic and a
 * KIP-848 consumer group and commits, lists offsets, describes and alters configs, adds
 * partitions, deletes records, lists / describes / deletes groups and their offsets, then
 * deletes the topic. Each step is reported on stderr; a failing step is reported and the
 * workload goes on (exit 1 at the end).
 */
public final class GoldenWorkload {
  interface Step {
    void run() throws Exception;
  }

  private final String bootstrap;
  private final String topic;
  private final String group;
  private final String group848;
  private final String prefix;
  private final Admin admin;
  private int produced = 0;

  GoldenWorkload(String bootstrap, String prefix) {
    this.bootstrap = bootstrap;
    this.prefix = prefix;
    this.topic = prefix + "-topic";
    this.group = prefix + "-group";
    this.group848 = prefix + "-group-848";
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "golden-java-admin");
    this.admin = Admin.create(p);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  ProducerRecord<byte[], byte[]> record(int i) {
    RecordHeaders h = new RecordHeaders();
    if (i % 5 != 0) {
      h.add("trace", utf8("t-" + i));
      h.add("idx", utf8(Integer.toString(i)));
    }
    byte[] key = i % 10 == 3 ? null : utf8("key-" + i);
    byte[] value = i % 10 == 7 ? null : utf8("value-" + i);
    return new ProducerRecord<>(topic, null, null, key, value, h);
  }

  Properties producerProps(String compression) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "golden-java-producer");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return p;
  }

  void produce(Properties props, int count) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
      for (int n = 0; n < count; n++) acks.add(producer.send(record(produced++)));
      for (var f : acks) f.get(30, TimeUnit.SECONDS);
    }
  }

  @SuppressWarnings("removal") // ConsumerGroupMetadata(String): no consumer needed here
  void transaction() throws Exception {
    Properties props = producerProps("none");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-tx");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int n = 0; n < 2; n++) producer.send(record(produced++));
      producer.sendOffsetsToTransaction(
          Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1)),
          new org.apache.kafka.clients.consumer.ConsumerGroupMetadata(prefix + "-tx-group"));
      producer.commitTransaction();
    }
  }

  void consume(String groupId, String protocol) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "golden-java-consumer");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    if (groupId != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
      p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
    }
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (var pi : c.partitionsFor(topic, Duration.ofSeconds(10))) {
        tps.add(new TopicPartition(topic, pi.partition()));
      }
      if (groupId == null) {
        c.assign(tps);
        c.seekToBeginning(tps);
      } else {
        c.subscribe(List.of(topic));
      }
      int read = 0;
      Map<TopicPartition, OffsetAndMetadata> last = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (read < produced && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          last.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          read++;
        }
      }
      if (read < produced) throw new IllegalStateException("read " + read + " of " + produced);
      if ("classic".equals(protocol)) {
        // Stay a member past heartbeat.interval.ms (3 s), so that Heartbeat is sent too.
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3500);
        while (System.nanoTime() < until) c.poll(Duration.ofMillis(250));
      }
      if (groupId != null) {
        c.commitSync(last);
        c.committed(last.keySet());
      } else {
        Map<TopicPartition, Long> query = new HashMap<>();
        for (TopicPartition tp : tps) query.put(tp, System.currentTimeMillis() - 60_000);
        c.offsetsForTimes(query);
        c.beginningOffsets(tps);
        c.endOffsets(tps);
      }
      c.close(CloseOptions.timeout(Duration.ofSeconds(10)));
    }
  }

  List<Map.Entry<String, Step>> steps() {
    List<Map.Entry<String, Step>> s = new ArrayList<>();
    ConfigResource topicRes = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    s.add(Map.entry("create topic", () ->
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get()));
    s.add(Map.entry("describe cluster", () -> admin.describeCluster().nodes().get()));
    s.add(Map.entry("describe topics", () -> admin.describeTopics(List.of(topic)).allTopicNames().get()));
    for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
      s.add(Map.entry("produce " + codec, () -> produce(producerProps(codec), 4)));
    }
    s.add(Map.entry("produce acks=1", () -> {
      Properties p = producerProps("none");
      p.put(ProducerConfig.ACKS_CONFIG, "1");
      p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
      produce(p, 2);
    }));
    s.add(Map.entry("transaction with offsets", this::transaction));
    s.add(Map.entry("consume by assignment", () -> consume(null, null)));
    s.add(Map.entry("consume in a classic group and commit", () -> consume(group, "classic")));
    s.add(Map.entry("consume in a consumer group (KIP-848)", () -> consume(group848, "consumer")));
    s.add(Map.entry("list offsets", () -> admin.listOffsets(Map.of(
        new TopicPartition(topic, 0), OffsetSpec.earliest(),
        new TopicPartition(topic, 1), OffsetSpec.forTimestamp(System.currentTimeMillis() - 60_000)))
        .all().get()));
    s.add(Map.entry("describe configs", () -> admin.describeConfigs(List.of(
        topicRes, new ConfigResource(ConfigResource.Type.BROKER, "1"))).all().get()));
    s.add(Map.entry("incremental alter configs", () -> admin.incrementalAlterConfigs(Map.of(
        topicRes, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"),
            AlterConfigOp.OpType.SET)))).all().get()));
    s.add(Map.entry("create partitions", () ->
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get()));
    s.add(Map.entry("list groups", () -> admin.listGroups().all().get()));
    s.add(Map.entry("describe classic group", () ->
        admin.describeConsumerGroups(List.of(group)).all().get()));
    s.add(Map.entry("describe consumer group", () ->
        admin.describeConsumerGroups(List.of(group848)).all().get()));
    s.add(Map.entry("list group offsets", () -> admin.listConsumerGroupOffsets(
        Map.of(group, new ListConsumerGroupOffsetsSpec())).all().get()));
    s.add(Map.entry("alter group offsets", () -> admin.alterConsumerGroupOffsets(group,
        Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(0))).all().get()));
    s.add(Map.entry("delete group offsets", () -> admin.deleteConsumerGroupOffsets(group,
        Set.of(new TopicPartition(topic, 1))).all().get()));
    s.add(Map.entry("delete records", () -> admin.deleteRecords(Map.of(
        new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(1))).all().get()));
    s.add(Map.entry("delete groups", () ->
        admin.deleteConsumerGroups(List.of(group, group848)).all().get()));
    s.add(Map.entry("delete topic", () -> admin.deleteTopics(List.of(topic)).all().get()));
    return s;
  }

  public static void main(String[] argv) {
    String bootstrap = null;
    String prefix = "golden-java";
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (argv[i].equals("--bootstrap")) bootstrap = argv[i + 1];
      else if (argv[i].equals("--prefix")) prefix = argv[i + 1];
    }
    if (bootstrap == null) {
      System.err.println("usage: GoldenWorkload --bootstrap HOST:PORT [--prefix P]");
      System.exit(2);
    }
    GoldenWorkload w = new GoldenWorkload(bootstrap, prefix);
    int failed = 0;
    for (var step : w.steps()) {
      long started = System.nanoTime();
      try {
        step.getValue().run();
        System.err.printf("ok   %s (%d ms)%n", step.getKey(),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      } catch (Exception e) {
        failed++;
        System.err.printf("FAIL %s: %s%n", step.getKey(), e);
      }
    }
    w.admin.close(Duration.ofSeconds(10));
    System.err.println(failed == 0 ? "workload done" : "workload done, " + failed + " steps failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
