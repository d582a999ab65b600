package io.tessera.kafka;

import io.tessera.common.options.OptionSet;
import io.tessera.common.options.OptionSpec;
import io.tessera.common.options.ParsedOptions;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Every option of tessera-kafka, declared once. Producer settings pass through under the {@code
 * kafka.} prefix (as with Spark's own Kafka sink); they override Tessera's throughput defaults.
 */
public final class KafkaWriteOptions {
  private KafkaWriteOptions() {}

  /** The delivery guarantee. */
  public enum Delivery {
    AT_LEAST_ONCE,
    EXACTLY_ONCE
  }

  public static final String PRODUCER_PREFIX = "kafka.";

  public static final OptionSpec<String> BOOTSTRAP_SERVERS =
      OptionSpec.string(
          "bootstrap.servers",
          null,
          "Kafka brokers, host:port[,host:port]; same as kafka.bootstrap.servers");
  public static final OptionSpec<String> TOPIC =
      OptionSpec.string(
          "topic",
          null,
          "provider only: the topic of every row; the alternative to a 'topic' column (not both)."
              + " A catalog table is its topic");
  public static final OptionSpec<Delivery> DELIVERY =
      OptionSpec.choice(
          "delivery",
          Delivery.class,
          Delivery.AT_LEAST_ONCE,
          "at-least-once: idempotent producer, every task flushes and checks every send (a"
              + " retried task may send records twice); exactly-once: each task attempt sends in"
              + " its own Kafka transaction and the driver commits those of the attempts Spark"
              + " chose (needs transactionalIdPrefix; consumers read with"
              + " isolation.level=read_committed)");
  public static final OptionSpec<String> TRANSACTIONAL_ID_PREFIX =
      OptionSpec.string(
          "transactionalIdPrefix",
          null,
          "delivery=exactly-once only, and required there: the start of every transactional id"
              + " the write uses (letters, digits, '-', '_'). Unique per sink: a later write or a"
              + " restarted query with the same prefix completes or aborts what an earlier one"
              + " left open");
  public static final OptionSpec<String> LEDGER_TOPIC =
      OptionSpec.string(
          "ledgerTopic",
          "_tessera_kafka_ledger",
          "delivery=exactly-once only: the compacted topic where the driver records which"
              + " transactions it is about to commit (created on first use; never listed as a"
              + " table)");
  public static final OptionSpec<Boolean> ALLOW_TRUNCATE_AS_NOOP =
      OptionSpec.bool(
          "allowTruncateAsNoop",
          false,
          "accept truncate/overwrite/complete mode as a plain append (a topic cannot be emptied"
              + " atomically)");

  public static final OptionSpec<Boolean> ALLOW_DROP_TOPIC =
      OptionSpec.bool(
          "allowDropTopic",
          false,
          "catalog only: let DROP TABLE delete the topic and all its records (refused otherwise)");

  public static final OptionSet OPTIONS =
      OptionSet.builder("tessera-kafka")
          .add(
              BOOTSTRAP_SERVERS,
              TOPIC,
              DELIVERY,
              TRANSACTIONAL_ID_PREFIX,
              LEDGER_TOPIC,
              ALLOW_TRUNCATE_AS_NOOP,
              ALLOW_DROP_TOPIC)
          .passThroughPrefix(
              PRODUCER_PREFIX,
              "a Kafka producer (or, for the catalog, admin) setting under its exact name, e.g."
                  + " kafka.linger.ms, kafka.compression.type; checked on the driver, and settings"
                  + " that would void the guarantee (acks, enable.idempotence, retries=0,"
                  + " transactional.id, serializers) are refused")
          .ignore("checkpointLocation", "path")
          .build();

  /**
   * Tessera's producer defaults: throughput-oriented batching, and the settings at-least-once needs
   * (acks=all, idempotence, unlimited retries within delivery.timeout.ms).
   */
  static final Map<String, String> PRODUCER_DEFAULTS =
      Map.of(
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
          ProducerConfig.LINGER_MS_CONFIG, "10",
          ProducerConfig.BATCH_SIZE_CONFIG, "262144",
          ProducerConfig.BUFFER_MEMORY_CONFIG, "67108864",
          ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");

  /**
   * With delivery=exactly-once, a task's transaction stays open until the driver commits it, so the
   * whole job (or micro-batch) must fit in {@code transaction.timeout.ms}: 15 minutes, the brokers'
   * default {@code transaction.max.timeout.ms}, instead of the producer's 1 minute.
   */
  static final String EXACTLY_ONCE_TRANSACTION_TIMEOUT_MS = "900000";

  /**
   * The producer configuration: Tessera defaults, then the user's {@code kafka.*} settings, checked
   * by {@link ProducerSettings}.
   */
  static Map<String, Object> producerConfig(ParsedOptions options) {
    return ProducerSettings.build(options);
  }
}
