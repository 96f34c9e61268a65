/**
 * Runs Apache Kafka 4.4's own command-line tools (the classes behind kafka-topics.sh,
 * kafka-configs.sh, kafka-log-dirs.sh, ...) against a broker, as an operator would.
 * The jars come from Maven Central (org.apache.kafka:kafka-tools), resolved by
 * scripts/install_test_deps.sh into .tools/kafka-tools/lib.
 */

const ROOT = new URL("../", import.meta.url).pathname;
const LIB = `${ROOT}.tools/kafka-tools/lib`;
const LOG4J = `${ROOT}bench/kafka-tools/log4j2.properties`;

/** The tools by their script names, as Kafka 4.4 ships them. */
export const KAFKA_TOOLS = {
  "kafka-topics": "org.apache.kafka.tools.TopicCommand",
  "kafka-configs": "org.apache.kafka.tools.ConfigCommand",
  "kafka-log-dirs": "org.apache.kafka.tools.LogDirsCommand",
  "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
  "kafka-features": "org.apache.kafka.tools.FeatureCommand",
  "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
  "kafka-leader-election": "org.apache.kafka.tools.LeaderElectionCommand",
  "kafka-reassign-partitions": "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
  "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
  "kafka-delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
  "kafka-delegation-tokens": "org.apache.kafka.tools.DelegationTokenCommand",
  "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
  "kafka-acls": "org.apache.kafka.tools.AclCommand",
  "kafka-console-share-consumer": "org.apache.kafka.tools.consumer.ConsoleShareConsumer",
  "kafka-share-groups": "org.apache.kafka.tools.consumer.group.ShareGroupCommand",
  "kafka-streams-groups": "org.apache.kafka.tools.streams.StreamsGroupCommand",
} as const;

/** A tool's name as Kafka's scripts call it. */
export type KafkaTool = keyof typeof KAFKA_TOOLS;

/** What a tool printed and how it exited. */
export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails with a message saying how to get the jars when they are missing. */
export async function requireKafkaTools(): Promise<void> {
  try {
    await Deno.stat(`${LIB}/.stamp`);
  } catch {
    throw new Error(
      `Kafka's tools are not in ${LIB}; run bash scripts/install_test_deps.sh (needs Java 17+ and Maven)`,
    );
  }
}

/**
 * Runs one tool to completion (killed after `timeoutMs`). The class names of
 * Kafka 4.4 have moved between releases; the table above is the one place
 * they are written.
 */
export async function runKafkaTool(
  tool: KafkaTool,
  args: string[],
  timeoutMs = 60_000,
): Promise<ToolRun> {
  await requireKafkaTools();
  const child = new Deno.Command("java", {
    args: [
      "-Xmx256m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Dlog4j2.configurationFile=${LOG4J}`,
      "-cp",
      `${LIB}/*`,
      KAFKA_TOOLS[tool],
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
