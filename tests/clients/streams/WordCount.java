// Kafka Streams word count for tests/streams_connect_test.ts, run as a single-file source
// program against the jars of pom.xml (resolved by scripts/install_test_deps.sh):
//
//   java -cp '.tools/streams/lib/*' tests/clients/streams/WordCount.java \
//     BOOTSTRAP APPLICATION_ID INPUT_TOPIC OUTPUT_TOPIC STATE_DIR [GUARANTEE]
//
// Lines of INPUT_TOPIC are split on spaces; the count of each word (a store named "counts",
// so its changelog is APPLICATION_ID-counts-changelog and the repartition topic
// APPLICATION_ID-counts-repartition) goes to OUTPUT_TOPIC as key=word, value=count in
// decimal. processing.guarantee=GUARANTEE (at_least_once unless given; exactly_once_v2 for
// tests/streams_eos_test.ts); every other setting is Streams' default, unless the environment
// variable SKB_STREAMS_PROPS gives more as "key=value,key=value" (tests/streams_groups_interop_test.ts
// sets group.protocol=streams, the KIP-1071 protocol, and application.server this way).
// Stdout carries one line per event the test waits for: "state FROM TO", "restored STORE
// PARTITION COUNT", "closed". SIGTERM closes the app (a commit; it leaves the group).

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;

public class WordCount {
  public static void main(String[] args) throws Exception {
    if (args.length != 5 && args.length != 6) {
      System.err.println("usage: WordCount BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [GUARANTEE]");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
        args.length == 6 ? args[5] : StreamsConfig.AT_LEAST_ONCE);
    String extra = System.getenv("SKB_STREAMS_PROPS");
    if (extra != null && !extra.isEmpty()) {
      for (String kv : extra.split(",")) {
        int eq = kv.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("SKB_STREAMS_PROPS entry without key=value: " + kv);
        props.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
      }
    }

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, String> lines =
        builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()));
    lines
        .flatMapValues(line -> Arrays.asList(line.split(" ")))
        .filter((key, word) -> !word.isEmpty())
        .groupBy((key, word) -> word, Grouped.with("counts", Serdes.String(), Serdes.String()))
        .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts")
            .withKeySerde(Serdes.String()))
        .toStream()
        .map((word, count) -> KeyValue.pair(word, Long.toString(count)))
        .to(args[3], Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setStateListener((to, from) -> say("state " + from + " " + to));
    streams.setGlobalStateRestoreListener(new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition tp, String store, long start, long end) {}

      @Override
      public void onBatchRestored(TopicPartition tp, String store, long end, long n) {}

      @Override
      public void onRestoreEnd(TopicPartition tp, String store, long total) {
        say("restored " + store + " " + tp.partition() + " " + total);
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      say("error " + e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
          .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });

    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Leave the group, so that the next start need not wait out this member's session.
      streams.close(CloseOptions.groupMembershipOperation(
              CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
          .withTimeout(Duration.ofSeconds(20)));
      say("closed");
      done.countDown();
    }));
    streams.start();
    done.await();
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
