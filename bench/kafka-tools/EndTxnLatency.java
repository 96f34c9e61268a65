// How long commitTransaction takes, as the Java producer sees it (bench/transactions.ts).
//
//   java -cp '.tools/kafka-tools/lib/*' bench/kafka-tools/EndTxnLatency.java \
//     BOOTSTRAP TOPIC TRANSACTIONS RECORDS_PER_TRANSACTION [WARMUP]
//
// Each transaction: beginTransaction, RECORDS_PER_TRANSACTION records of 1 KiB spread over the
// topic's partitions (round robin by key), flush() (so the records are acknowledged and the
// timing covers only the end), then commitTransaction timed with System.nanoTime: EndTxn
// (and the marker writes a broker does before answering it). The first WARMUP transactions are
// not counted. Prints one JSON line: count, avg, p50, p90, p99, max (ms), and the whole run's
// transactions per second.

import java.util.Arrays;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class EndTxnLatency {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    int transactions = Integer.parseInt(args[2]);
    int perTxn = Integer.parseInt(args[3]);
    int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 20;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "endtxn-latency-" + System.nanoTime());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    byte[] value = new byte[1024];
    Arrays.fill(value, (byte) 'x');
    double[] ms = new double[transactions];
    long t0 = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      for (int i = -warmup; i < transactions; i++) {
        if (i == 0) t0 = System.nanoTime();
        producer.beginTransaction();
        for (int j = 0; j < perTxn; j++) {
          producer.send(new ProducerRecord<>(topic, ("k" + j).getBytes(), value));
        }
        producer.flush();
        long s = System.nanoTime();
        producer.commitTransaction();
        if (i >= 0) ms[i] = (System.nanoTime() - s) / 1e6;
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (double x : ms) sum += x;
    System.out.printf(
        "{\"count\":%d,\"avg\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"tps\":%.1f}%n",
        transactions, sum / transactions, pct(sorted, 50), pct(sorted, 90), pct(sorted, 99),
        sorted[sorted.length - 1], transactions / seconds);
  }

  static double pct(double[] sorted, double q) {
    int i = (int) Math.ceil(q / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
