package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.EditDistance;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.redact.Redaction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The producer configuration of a write, built and checked on the driver before any task runs:
 * Tessera's defaults, then the user's {@code kafka.*} settings under Kafka's exact names, validated
 * by Kafka's own {@link ProducerConfig}. Settings that would void the delivery guarantee are
 * refused with the reason; a setting that is not Kafka's but close to one of Kafka's names (a typo
 * or different case) is refused naming the nearest one. Settings far from every Kafka name are
 * passed through, since plugins (interceptors, SASL callback handlers, serializers of a schema
 * registry) read their own keys.
 */
final class ProducerSettings {
  private ProducerSettings() {}

  /** Every name Kafka's producer or admin client knows (the catalog uses one set of settings). */
  private static final Set<String> KNOWN = known();

  private static final Pattern CONFIG_NAME = Pattern.compile("configuration (\\S+?)[:.]?(\\s|$)");

  private static Set<String> known() {
    Set<String> names = new TreeSet<>(ProducerConfig.configNames());
    names.addAll(AdminClientConfig.configNames());
    return names;
  }

  /** The validated producer configuration of a write with these options. */
  static Map<String, Object> build(ParsedOptions options) {
    Map<String, String> user = options.withPrefix(KafkaWriteOptions.PRODUCER_PREFIX);
    List<String> secrets = options.secretValues();
    user.forEach((k, v) -> check(k, v, secrets));
    Map<String, Object> config = new LinkedHashMap<>(KafkaWriteOptions.PRODUCER_DEFAULTS);
    if (options.get(KafkaWriteOptions.DELIVERY) == KafkaWriteOptions.Delivery.EXACTLY_ONCE) {
      config.put(
          ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
          KafkaWriteOptions.EXACTLY_ONCE_TRANSACTION_TIMEOUT_MS);
      // A transactional request that must first find its coordinator is retried after this
      // backoff (100 ms by default): paid by every task's initTransactions and every commit.
      // Retries back off exponentially from here up to retry.backoff.max.ms.
      config.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "10");
    }
    config.putAll(user);
    if (!config.containsKey(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)) {
      String servers = options.get(KafkaWriteOptions.BOOTSTRAP_SERVERS);
      if (servers == null) {
        throw new TesseraException(
            TesseraError.MISSING_OPTION,
            "tessera-kafka needs the brokers: set option 'bootstrap.servers' (or"
                + " 'kafka.bootstrap.servers') to host:port[,host:port]");
      }
      config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    }
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    validate(config, secrets);
    return config;
  }

  private static void check(String key, String value, List<String> secrets) {
    String shown = Redaction.isSecretKey(key) ? Redaction.REDACTED : "'" + value + "'";
    switch (key) {
      case ProducerConfig.ACKS_CONFIG -> {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!v.equals("all") && !v.equals("-1")) {
          throw refused(
              key,
              shown,
              "a record counts as delivered only once every in-sync replica has it (acks=all);"
                  + " with acks="
                  + value.trim()
                  + " a broker failure can lose acknowledged records. Remove the setting");
        }
      }
      case ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG -> {
        if (!value.trim().equalsIgnoreCase("true")) {
          throw refused(
              key,
              shown,
              "the idempotent producer keeps a retried batch from being written twice or out of"
                  + " order. Remove the setting");
        }
      }
      case ProducerConfig.RETRIES_CONFIG -> {
        if (value.trim().equals("0")) {
          throw refused(
              key,
              shown,
              "without retries a brief leader change fails the whole task; limit the time spent"
                  + " retrying with kafka.delivery.timeout.ms instead");
        }
      }
      case ProducerConfig.TRANSACTIONAL_ID_CONFIG ->
          throw refused(
              key,
              shown,
              "every task would share this transactional.id and fence the others; for"
                  + " transactions use delivery=exactly-once with option transactionalIdPrefix,"
                  + " which gives every task attempt its own id");
      case ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG ->
          throw refused(
              key,
              shown,
              "Tessera sends the bytes of the key and value columns as they are; serialize in the"
                  + " query instead (e.g. to_json(struct(*)) or to_avro(...))");
      default -> {
        if (!KNOWN.contains(key)) {
          String nearest = nearest(key);
          if (nearest != null) {
            throw new TesseraException(
                TesseraError.UNKNOWN_OPTION,
                "Unknown Kafka setting 'kafka."
                    + key
                    + "'; did you mean 'kafka."
                    + nearest
                    + "'? Kafka's setting names are case-sensitive");
          }
        }
      }
    }
  }

  /** A Kafka name one or two edits (or only case) away from {@code key}, else null. */
  private static String nearest(String key) {
    String best = EditDistance.nearest(key, KNOWN);
    if (best == null) {
      return null;
    }
    int distance =
        EditDistance.between(key.toLowerCase(Locale.ROOT), best.toLowerCase(Locale.ROOT));
    return distance <= (key.length() < 8 ? 1 : 2) ? best : null;
  }

  private static TesseraException refused(String key, String shown, String why) {
    return new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Kafka setting 'kafka." + key + "' = " + shown + " is refused: " + why);
  }

  /** Kafka's own parsing and cross-checks of every setting, on the driver. */
  private static void validate(Map<String, Object> config, List<String> secrets) {
    if (config.containsKey("config.providers")) {
      // Kafka would resolve the providers' references (files, vaults) here, on the driver, where
      // the files shipped to executors do not exist: leave the validation to the executors.
      return;
    }
    try {
      new ProducerConfig(config);
    } catch (ConfigException e) {
      String message = Redaction.redactText(String.valueOf(e.getMessage()), secrets);
      Matcher m = CONFIG_NAME.matcher(message);
      String option = m.find() ? "option 'kafka." + m.group(1) + "'" : "a kafka.* option";
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Kafka refused the producer settings: " + message + " (check " + option + ")",
          Redaction.redactThrowable(e, secrets));
    }
  }
}
