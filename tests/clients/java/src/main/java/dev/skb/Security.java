package dev.skb;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * The contract's security options (CONTRACT.md "Security") mapped onto kafka-clients settings,
 * the connection check run before a command, and the error line for a failed authentication or
 * TLS handshake.
 *
 * <p>PEM files are passed as PEM strings (KIP-651): ssl.truststore.type=PEM with
 * ssl.truststore.certificates, ssl.keystore.type=PEM with ssl.keystore.certificate.chain and
 * ssl.keystore.key (an unencrypted PKCS#8 key needs no ssl.key.password this way; a PEM keystore
 * file would).
 */
final class Security {
  static final Set<String> FLAGS =
      Set.of(
          "security-protocol", "sasl-mechanism", "sasl-username", "sasl-password", "ssl-ca",
          "ssl-cert", "ssl-key", "connect-timeout-ms");

  private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
  private static final Map<String, String> LOGIN_MODULES =
      Map.of(
          "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule",
          "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule",
          "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule");

  private static final Properties PROPS = new Properties();
  private static boolean enabled;
  private static long connectTimeoutMs = 15_000;

  private Security() {}

  /** Reads the security flags of a parsed command line; throws on a bad combination. */
  static void configure(Map<String, String> a) throws IOException {
    if (a.containsKey("connect-timeout-ms")) connectTimeoutMs = Long.parseLong(a.get("connect-timeout-ms"));
    String protocol = a.get("security-protocol");
    if (protocol == null) {
      for (String f : FLAGS) {
        if (!f.equals("connect-timeout-ms") && a.containsKey(f)) {
          throw new IllegalArgumentException("--" + f + " needs --security-protocol");
        }
      }
      return;
    }
    if (!PROTOCOLS.contains(protocol)) {
      throw new IllegalArgumentException("unknown --security-protocol '" + protocol + "'");
    }
    enabled = true;
    PROPS.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    if (protocol.startsWith("SASL_")) {
      String mechanism = a.getOrDefault("sasl-mechanism", "PLAIN");
      String module = LOGIN_MODULES.get(mechanism);
      if (module == null) throw new IllegalArgumentException("unsupported --sasl-mechanism '" + mechanism + "'");
      PROPS.put(SaslConfigs.SASL_MECHANISM, mechanism);
      PROPS.put(
          SaslConfigs.SASL_JAAS_CONFIG,
          module + " required username=" + jaasQuote(req(a, "sasl-username"))
              + " password=" + jaasQuote(req(a, "sasl-password")) + ";");
    }
    if (protocol.endsWith("SSL")) {
      if (a.containsKey("ssl-ca")) {
        PROPS.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
        PROPS.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, read(a.get("ssl-ca")));
      }
      if (a.containsKey("ssl-cert") != a.containsKey("ssl-key")) {
        throw new IllegalArgumentException("--ssl-cert and --ssl-key go together");
      }
      if (a.containsKey("ssl-cert")) {
        PROPS.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
        PROPS.put(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG, read(a.get("ssl-cert")));
        PROPS.put(SslConfigs.SSL_KEYSTORE_KEY_CONFIG, read(a.get("ssl-key")));
      }
    }
  }

  static boolean enabled() {
    return enabled;
  }

  /** The settings every producer, consumer and admin client of this run gets. */
  static Properties props() {
    return PROPS;
  }

  /**
   * One DescribeCluster through the AdminClient, bounded by --connect-timeout-ms: fails with the
   * error line when the cluster cannot be reached or refuses the credentials.
   */
  static boolean check(String bootstrap, PrintStream out) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.putAll(PROPS);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(connectTimeoutMs));
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(connectTimeoutMs));
    Admin admin = Admin.create(p);
    try {
      admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) connectTimeoutMs))
          .clusterId()
          .get(connectTimeoutMs + 1000, TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      if (!report(e, out)) {
        printError(out, "connection", e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
      }
      return false;
    } finally {
      admin.close(Duration.ofSeconds(1));
    }
  }

  /** Prints the error line when e (or a cause) is a security or connection failure. */
  static boolean report(Throwable e, PrintStream out) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      String kind = null;
      if (c instanceof SslAuthenticationException || c instanceof SSLException) kind = "tls";
      else if (c instanceof SaslAuthenticationException || c instanceof AuthenticationException) kind = "authentication";
      else if (c instanceof TimeoutException || c instanceof java.util.concurrent.TimeoutException) {
        kind = "connection";
      }
      if (kind != null) {
        String message = c.getMessage();
        if (kind.equals("connection")) {
          message = "no broker answered within " + connectTimeoutMs + " ms (" + message + ")";
        }
        printError(out, kind, c.getClass().getSimpleName(), String.valueOf(message));
        return true;
      }
    }
    return false;
  }

  static void printError(PrintStream out, String kind, String name, String message) {
    out.println(
        "{\"error\":" + Driver.jsonString(kind) + ",\"name\":" + Driver.jsonString(name)
            + ",\"message\":" + Driver.jsonString(message) + "}");
    out.flush();
  }

  private static String jaasQuote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String read(String file) throws IOException {
    return Files.readString(Path.of(file), StandardCharsets.UTF_8);
  }

  private static String req(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) throw new IllegalArgumentException("--" + name + " is required with SASL");
    return v;
  }
}
