package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.redact.Redaction;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Driver-side admin requests (catalog operations, the provider's topic check), with errors that say
 * whether the brokers could not be reached or refused the request. A short-lived {@link Admin} per
 * call: these are rare, and a catalog must not keep connections open between queries.
 */
final class KafkaAdmin {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaAdmin.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final Map<String, Object> config;
  private final List<String> secrets;
  private final String servers;

  KafkaAdmin(ParsedOptions options) {
    Map<String, Object> producer = KafkaWriteOptions.producerConfig(options);
    this.config = new HashMap<>(options.withPrefix(KafkaWriteOptions.PRODUCER_PREFIX));
    this.servers = String.valueOf(producer.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    this.secrets = options.secretValues();
  }

  String servers() {
    return servers;
  }

  List<String> secrets() {
    return secrets;
  }

  /** How long a request may wait for the brokers: the admin client's default API timeout. */
  int timeoutMs() {
    Object v = config.get(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG);
    return v == null ? 60_000 : Integer.parseInt(v.toString().trim());
  }

  @FunctionalInterface
  interface Call<T> {
    T apply(Admin admin) throws InterruptedException, ExecutionException;
  }

  /**
   * Runs {@code call}; a failure of the request itself comes back as the {@link ExecutionException}
   * cause wrapped in {@link Failure} so callers can map the errors they expect (unknown topic,
   * topic exists, invalid replication factor) and leave the rest to {@link #describe}.
   */
  <T> T call(Call<T> call) throws Failure {
    return call(call, config);
  }

  /** {@link #call(Call)} with every request of the admin client bounded by {@code timeoutMs}. */
  <T> T call(Call<T> call, int timeoutMs) throws Failure {
    Map<String, Object> bounded = new HashMap<>(config);
    bounded.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    bounded.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
    return call(call, bounded);
  }

  private <T> T call(Call<T> call, Map<String, Object> adminConfig) throws Failure {
    Admin admin = null;
    try {
      admin = Admin.create(new HashMap<>(adminConfig));
      return call.apply(admin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted talking to Kafka", e);
    } catch (ExecutionException e) {
      throw new Failure(e.getCause() == null ? e : e.getCause());
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new TesseraException(
          TesseraError.CONNECTION_FAILED,
          "Cannot create a Kafka admin client for "
              + servers
              + ": "
              + Redaction.redactText(String.valueOf(e.getMessage()), secrets),
          Redaction.redactThrowable(e, secrets));
    } finally {
      if (admin != null) {
        // A plain close() would wait for requests still retrying against unreachable brokers.
        admin.close(CLOSE_TIMEOUT);
      }
    }
  }

  /** {@link #call}, every failure turned into a Tessera error. */
  <T> T run(String what, Call<T> call) {
    try {
      return call(call);
    } catch (Failure f) {
      throw describe(what, f.getCause());
    }
  }

  /** The Tessera error for a failed admin request. */
  TesseraException describe(String what, Throwable cause) {
    return describe(what, cause, timeoutMs());
  }

  private TesseraException describe(String what, Throwable cause, int timeout) {
    String message = Redaction.redactText(String.valueOf(cause.getMessage()), secrets);
    if (cause instanceof TimeoutException) {
      return new TesseraException(
          TesseraError.CONNECTION_FAILED,
          what
              + ": cannot reach the Kafka brokers "
              + servers
              + " within "
              + timeout
              + " ms ("
              + message
              + "); check bootstrap.servers and the network, or raise"
              + " kafka.default.api.timeout.ms / kafka.max.block.ms",
          Redaction.redactThrowable(cause, secrets));
    }
    return new TesseraException(
        TesseraError.CONNECTION_FAILED,
        what
            + " failed on brokers "
            + servers
            + ": "
            + cause.getClass().getSimpleName()
            + ": "
            + message,
        Redaction.redactThrowable(cause, secrets));
  }

  /**
   * Fails on the driver when {@code topic} certainly does not exist and the brokers certainly do
   * not create topics on first use, instead of every task waiting {@code max.block.ms} for
   * metadata. Best effort: when the driver cannot tell (brokers unreachable from the driver, no
   * DESCRIBE or DESCRIBE_CONFIGS rights), it logs a warning and lets the tasks try. Waits at most
   * the producer's {@code max.block.ms}.
   */
  void requireTopic(String topic, Map<String, Object> producerConfig) {
    Object block = producerConfig.get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    int timeout;
    try {
      timeout =
          (int)
              Math.min(
                  timeoutMs(), block == null ? 60_000L : Long.parseLong(block.toString().trim()));
    } catch (NumberFormatException e) {
      timeout = 60_000;
    }
    final int bounded = timeout;
    try {
      call(
          a ->
              a.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(bounded))
                  .allTopicNames()
                  .get(),
          bounded);
      return;
    } catch (Failure f) {
      if (!(f.getCause() instanceof UnknownTopicOrPartitionException)) {
        LOG.warn(
            "tessera-kafka: could not check topic '{}' on brokers {} from the driver ({}); the"
                + " tasks will try to write to it",
            topic,
            servers,
            Redaction.redactText(String.valueOf(f.getCause()), secrets));
        return;
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "tessera-kafka: could not check topic '{}' from the driver: {}",
          topic,
          Redaction.redactText(String.valueOf(e.getMessage()), secrets));
      return;
    }
    Boolean autoCreate = brokersCreateTopics(bounded);
    if (autoCreate == null || autoCreate) {
      LOG.warn(
          "tessera-kafka: topic '{}' does not exist on brokers {}; writing relies on the brokers"
              + " creating it on first use",
          topic,
          servers);
      return;
    }
    throw new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Option 'topic' names topic '"
            + topic
            + "', which does not exist on brokers "
            + servers
            + ", and the brokers do not create topics on first use. Nothing was sent. Create it"
            + " first (CREATE TABLE <kafka catalog>.`"
            + topic
            + "` TBLPROPERTIES (partitions=...), or Kafka's kafka-topics.sh --create), or fix"
            + " the name");
  }

  /** A broker's {@code auto.create.topics.enable}; null when the driver cannot tell. */
  private Boolean brokersCreateTopics(int timeout) {
    try {
      return call(
          a -> {
            var nodes =
                a.describeCluster(new DescribeClusterOptions().timeoutMs(timeout)).nodes().get();
            if (nodes.isEmpty()) {
              return null;
            }
            ConfigResource broker =
                new ConfigResource(ConfigResource.Type.BROKER, nodes.iterator().next().idString());
            ConfigEntry e =
                a.describeConfigs(List.of(broker), new DescribeConfigsOptions().timeoutMs(timeout))
                    .all()
                    .get()
                    .get(broker)
                    .get("auto.create.topics.enable");
            return e == null || e.value() == null ? null : Boolean.valueOf(e.value().trim());
          },
          timeout);
    } catch (Failure | RuntimeException f) {
      return null;
    }
  }

  /** A failed admin request; its cause is Kafka's exception. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(Throwable cause) {
      super(cause);
    }
  }
}
