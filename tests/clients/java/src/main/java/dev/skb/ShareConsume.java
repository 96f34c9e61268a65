package dev.skb;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;

/**
 * The share-consume command (CONTRACT.md "Share group members", KIP-932): one KafkaShareConsumer
 * in explicit acknowledgement mode.
 *
 * <pre>
 * Driver share-consume --bootstrap HOST:PORT --topic T --group G [--count N]
 *                      [--ack accept|release|none] [--hold-ms MS] [--stop-file F]
 *                      [--timeout-ms MS]
 * </pre>
 */
final class ShareConsume {
  private ShareConsume() {}

  static int run(Map<String, String> a, PrintStream out) {
    String topic = Driver.req(a, "topic");
    String group = Driver.req(a, "group");
    int count = Integer.parseInt(a.getOrDefault("count", "2147483647"));
    String ack = a.getOrDefault("ack", "accept");
    if (!List.of("accept", "release", "none").contains(ack)) {
      throw new IllegalArgumentException("--ack must be accept, release or none, not '" + ack + "'");
    }
    Path stopFile = a.containsKey("stop-file") ? Path.of(a.get("stop-file")) : null;
    long timeoutMs = Long.parseLong(a.getOrDefault("timeout-ms", "60000"));
    long holdMs = Long.parseLong(a.getOrDefault("hold-ms", "0"));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    Driver.watchdog(timeoutMs + 30_000);

    Properties props = Driver.consumerProps(Driver.req(a, "bootstrap"));
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");

    int read = 0;
    boolean stopped = false;
    KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(props);
    try {
      consumer.subscribe(List.of(topic));
      while (read < count) {
        if (stopFile != null && Files.exists(stopFile)) {
          stopped = true;
          break;
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) break;
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(Math.min(200, left)))) {
          got.add(r);
        }
        if (got.isEmpty()) continue;
        StringBuilder sb = new StringBuilder(64);
        for (ConsumerRecord<byte[], byte[]> r : got) {
          sb.setLength(0);
          sb.append("{\"p\":").append(r.partition()).append(",\"o\":").append(r.offset());
          sb.append(",\"dc\":").append(r.deliveryCount().map(Short::intValue).orElse(-1));
          sb.append(",\"at\":").append(System.currentTimeMillis()).append('}');
          out.println(sb);
          read++;
        }
        out.flush();
        if (holdMs > 0) {
          // Holds the records (acquired, not acknowledged) as a slow worker would.
          try {
            Thread.sleep(holdMs);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        if (ack.equals("none")) {
          // Gives the records back by closing without acknowledging them.
          stopped = true;
          break;
        }
        AcknowledgeType type = ack.equals("release") ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT;
        for (ConsumerRecord<byte[], byte[]> r : got) consumer.acknowledge(r, type);
        Map<TopicIdPartition, Optional<KafkaException>> results = consumer.commitSync(Duration.ofSeconds(10));
        StringBuilder ok = new StringBuilder("{\"acked\":[");
        StringBuilder bad = new StringBuilder();
        for (ConsumerRecord<byte[], byte[]> r : got) {
          Optional<KafkaException> e = results.entrySet().stream()
              .filter(x -> x.getKey().topic().equals(r.topic()) && x.getKey().partition() == r.partition())
              .map(Map.Entry::getValue).findFirst().orElse(Optional.of(new KafkaException("no result")));
          if (e.isEmpty()) {
            if (ok.charAt(ok.length() - 1) != '[') ok.append(',');
            ok.append('[').append(r.partition()).append(',').append(r.offset()).append(']');
          } else {
            bad.append(r.partition()).append(':').append(r.offset()).append(' ').append(e.get()).append("; ");
          }
        }
        out.println(ok.append("],\"type\":\"").append(ack).append("\"}"));
        if (bad.length() > 0) Driver.log("acknowledgements failed: " + bad);
        out.flush();
        if (ack.equals("release")) {
          stopped = true;
          break;
        }
      }
      if (read < count && !stopped) Driver.log("read " + read + " records before the timeout");
    } finally {
      consumer.close(Duration.ofSeconds(10));
    }
    out.println("{\"done\":true,\"count\":" + read + "}");
    return read >= count || stopped ? 0 : 1;
  }
}
