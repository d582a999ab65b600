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
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.StagingTableCatalog;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * Kafka topics as tables: {@code spark.sql.catalog.kafka=io.tessera.kafka.KafkaCatalog}, {@code
 * spark.sql.catalog.kafka.bootstrap.servers=host:9092}, producer and admin settings under {@code
 * spark.sql.catalog.kafka.kafka.*}. {@code df.writeTo("kafka.events").append()}, {@code INSERT INTO
 * kafka.events SELECT ...}; {@code CREATE TABLE kafka.t (value STRING) TBLPROPERTIES (partitions=6,
 * replication=3)} creates the topic. Topics are in the empty namespace.
 *
 * <p>{@code CREATE TABLE ... AS SELECT} creates the topic and deletes it again if the query fails.
 * {@code REPLACE TABLE}, {@code CREATE OR REPLACE} of an existing topic and {@code
 * writeTo(...).createOrReplace()} are refused before anything happens: a topic cannot be swapped,
 * and Spark's fallback (drop, then create) would delete the topic and its records.
 */
public class KafkaCatalog implements StagingTableCatalog {
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

  // ---- staging: CTAS creates (and on failure deletes) the topic; replace is refused -----------

  @Override
  public StagedTable stageCreate(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    KafkaTable table = (KafkaTable) createTable(ident, info);
    return new KafkaCreatedTopicTable(table, this);
  }

  @Override
  public StagedTable stageReplace(Identifier ident, TableInfo info) {
    throw replaceRefused(ident, "REPLACE TABLE");
  }

  @Override
  public StagedTable stageCreateOrReplace(Identifier ident, TableInfo info)
      throws NoSuchNamespaceException {
    if (ident.namespace().length == 0 && topicExists(ident.name())) {
      throw replaceRefused(ident, "CREATE OR REPLACE TABLE");
    }
    try {
      return stageCreate(ident, info);
    } catch (TableAlreadyExistsException e) {
      throw replaceRefused(ident, "CREATE OR REPLACE TABLE");
    }
  }

  @Override
  public StagedTable stageCreate(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    return stageCreate(ident, info(columns, partitions, properties));
  }

  @Override
  public StagedTable stageReplace(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties) {
    return stageReplace(ident, info(columns, partitions, properties));
  }

  @Override
  public StagedTable stageCreateOrReplace(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties)
      throws NoSuchNamespaceException {
    return stageCreateOrReplace(ident, info(columns, partitions, properties));
  }

  private static TableInfo info(
      Column[] columns, Transform[] partitions, Map<String, String> properties) {
    return new TableInfo.Builder()
        .withColumns(columns)
        .withPartitions(partitions)
        .withProperties(properties)
        .build();
  }

  private TesseraException replaceRefused(Identifier ident, String statement) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        statement
            + " of Kafka topic '"
            + ident.name()
            + "' is refused: a topic cannot be replaced atomically, and dropping it would delete"
            + " its records. Nothing was changed. To add records use INSERT INTO or"
            + " df.writeTo(\""
            + name
            + "."
            + ident.name()
            + "\").append(); to start over, delete the topic with Kafka's tools and use CREATE"
            + " TABLE ... AS SELECT");
  }

  /** Deletes a topic that a failed CTAS created itself. */
  void deleteCreatedTopic(String topic) {
    admin(a -> a.deleteTopics(List.of(topic)).all().get());
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
