package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.redact.Redaction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCatalog;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * Kafka topics as tables: {@code spark.sql.catalog.kafka=io.tessera.kafka.KafkaCatalog}, {@code
 * spark.sql.catalog.kafka.bootstrap.servers=host:9092}, producer and admin settings under {@code
 * spark.sql.catalog.kafka.kafka.*}. {@code df.writeTo("kafka.events").append()}, {@code INSERT INTO
 * kafka.events SELECT ...}; {@code CREATE TABLE kafka.t (value STRING) TBLPROPERTIES (partitions=6,
 * replication=3)} creates the topic. Topics are in the empty namespace.
 */
public class KafkaCatalog implements TableCatalog {
  private static final String PARTITIONS = "partitions";
  private static final String REPLICATION = "replication";
  private static final String TOPIC_CONFIG_PREFIX = "config.";

  private String name;
  private Map<String, String> options;
  private Map<String, Object> adminConfig;
  private List<String> secrets;

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
    this.options = Map.copyOf(options.asCaseSensitiveMap());
    ParsedOptions parsed = KafkaWriteOptions.OPTIONS.parse(options);
    Map<String, Object> producer = KafkaWriteOptions.producerConfig(parsed);
    this.adminConfig = new HashMap<>(parsed.withPrefix(KafkaWriteOptions.PRODUCER_PREFIX));
    adminConfig.put(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        producer.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
    this.secrets = parsed.secretValues();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Identifier[] listTables(String[] namespace) throws NoSuchNamespaceException {
    if (namespace.length != 0) {
      throw new NoSuchNamespaceException(namespace);
    }
    Set<String> topics = admin(a -> a.listTopics().names().get());
    return topics.stream()
        .sorted()
        .map(t -> Identifier.of(new String[0], t))
        .toArray(Identifier[]::new);
  }

  @Override
  public Table loadTable(Identifier ident) throws NoSuchTableException {
    if (ident.namespace().length != 0 || !topicExists(ident.name())) {
      throw new NoSuchTableException(ident);
    }
    return new KafkaTable(name + "." + ident.name(), ident.name(), options);
  }

  private boolean topicExists(String topic) {
    return admin(a -> a.listTopics().names().get().contains(topic));
  }

  @Override
  public Table createTable(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    if (ident.namespace().length != 0) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    KafkaSchema.validateTopicName(ident.name(), "Table name");
    Map<String, String> props = info.properties();
    Optional<Integer> partitions =
        Optional.ofNullable(props.get(PARTITIONS)).map(v -> positive(PARTITIONS, v));
    Optional<Short> replication =
        Optional.ofNullable(props.get(REPLICATION)).map(v -> (short) positive(REPLICATION, v));
    Map<String, String> configs = new HashMap<>();
    props.forEach(
        (k, v) -> {
          if (k.startsWith(TOPIC_CONFIG_PREFIX)) {
            configs.put(k.substring(TOPIC_CONFIG_PREFIX.length()), v);
          }
        });
    NewTopic topic = new NewTopic(ident.name(), partitions, replication).configs(configs);
    try {
      admin(a -> a.createTopics(List.of(topic)).all().get());
    } catch (TesseraException e) {
      if (e.getCause() instanceof TopicExistsException
          || (e.getCause() != null && e.getCause().getCause() instanceof TopicExistsException)) {
        throw new TableAlreadyExistsException(ident);
      }
      throw e;
    }
    return new KafkaTable(name + "." + ident.name(), ident.name(), options);
  }

  private static int positive(String property, String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Table property '"
            + property
            + "' has value '"
            + value
            + "' but expects a positive whole number");
  }

  @Override
  public Table alterTable(Identifier ident, TableChange... changes) {
    throw new UnsupportedOperationException(
        "tessera-kafka does not alter topics; use Kafka's admin tools");
  }

  @Override
  public boolean dropTable(Identifier ident) {
    if (ident.namespace().length != 0 || !topicExists(ident.name())) {
      return false;
    }
    admin(a -> a.deleteTopics(List.of(ident.name())).all().get());
    return true;
  }

  @Override
  public void renameTable(Identifier from, Identifier to) {
    throw new UnsupportedOperationException("Kafka topics cannot be renamed");
  }

  @FunctionalInterface
  private interface AdminCall<T> {
    T apply(Admin admin) throws InterruptedException, ExecutionException;
  }

  private <T> T admin(AdminCall<T> call) {
    try (Admin admin = Admin.create(new HashMap<>(adminConfig))) {
      return call.apply(admin);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted talking to Kafka", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new TesseraException(
          TesseraError.CONNECTION_FAILED,
          "Kafka admin request to "
              + adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
              + " failed: "
              + Redaction.redactText(String.valueOf(cause.getMessage()), secrets),
          cause instanceof TopicExistsException
              ? cause
              : Redaction.redactThrowable(cause, secrets));
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new TesseraException(
          TesseraError.CONNECTION_FAILED,
          "Cannot create a Kafka admin client for "
              + adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
              + ": "
              + Redaction.redactText(String.valueOf(e.getMessage()), secrets),
          Redaction.redactThrowable(e, secrets));
    }
  }
}
