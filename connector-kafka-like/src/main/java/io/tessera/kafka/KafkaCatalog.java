package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.EditDistance;
import io.tessera.common.options.ParsedOptions;
import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.StagingTableCatalog;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCatalog;
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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaCatalog.class);
  private static final String PARTITIONS = "partitions";
  private static final String REPLICATION = "replication";
  private static final String TOPIC_CONFIG_PREFIX = "config.";

  /** Table properties Spark adds on its own: accepted and not kept. */
  private static final Set<String> SPARK_PROPERTIES =
      Set.of(
          TableCatalog.PROP_OWNER,
          TableCatalog.PROP_PROVIDER,
          TableCatalog.PROP_COMMENT,
          TableCatalog.PROP_EXTERNAL,
          TableCatalog.PROP_IS_MANAGED_LOCATION,
          TableCatalog.PROP_COLLATION,
          TableCatalog.PROP_TABLE_TYPE);

  /** Spark's prefix for {@code OPTIONS (...)} of CREATE TABLE: accepted and not kept. */
  private static final String SPARK_OPTION_PREFIX = TableCatalog.OPTION_PREFIX;

  /** Every topic-level setting Kafka knows, for {@code config.*} table properties. */
  private static final Set<String> TOPIC_CONFIGS = topicConfigNames();

  private String name;
  private Map<String, String> options;
  private KafkaAdmin admin;
  private boolean allowDropTopic;
  private Set<String> ledgerTopics;

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
    this.options = Map.copyOf(options.asCaseSensitiveMap());
    ParsedOptions parsed = KafkaWriteOptions.OPTIONS.parse(options);
    this.admin = new KafkaAdmin(parsed);
    this.allowDropTopic = parsed.get(KafkaWriteOptions.ALLOW_DROP_TOPIC);
    this.ledgerTopics =
        new java.util.HashSet<>(
            List.of(
                KafkaWriteOptions.LEDGER_TOPIC.defaultValue(),
                parsed.get(KafkaWriteOptions.LEDGER_TOPIC)));
  }

  /**
   * The exactly-once ledger is Tessera's own bookkeeping, not a table: never listed, loaded or
   * dropped through the catalog.
   */
  private boolean isLedger(String topic) {
    return ledgerTopics.contains(topic);
  }

  private static Set<String> topicConfigNames() {
    Set<String> names = new TreeSet<>();
    for (Field f : TopicConfig.class.getFields()) {
      if (f.getName().endsWith("_CONFIG") && f.getType() == String.class) {
        try {
          names.add((String) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return names;
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
    Set<String> topics = admin.run("Listing the topics", a -> a.listTopics().names().get());
    return topics.stream()
        .filter(t -> !isLedger(t))
        .sorted()
        .map(t -> Identifier.of(new String[0], t))
        .toArray(Identifier[]::new);
  }

  /**
   * Describes one topic (not a listing of all): partitions, replication factor and the topic
   * settings that differ from the broker's defaults, which {@code DESCRIBE TABLE EXTENDED} shows as
   * table properties.
   */
  @Override
  public Table loadTable(Identifier ident) throws NoSuchTableException {
    Optional<TopicDescription> description = describe(ident);
    if (description.isEmpty()) {
      throw new NoSuchTableException(ident);
    }
    String topic = ident.name();
    Map<String, String> properties = new TreeMap<>();
    List<TopicPartitionInfo> partitions = description.get().partitions();
    properties.put(PARTITIONS, String.valueOf(partitions.size()));
    properties.put(
        REPLICATION,
        String.valueOf(partitions.isEmpty() ? 0 : partitions.get(0).replicas().size()));
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try {
      Config config =
          admin.call(a -> a.describeConfigs(List.of(resource)).all().get().get(resource));
      for (ConfigEntry e : config.entries()) {
        if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && !e.isSensitive()) {
          properties.put(TOPIC_CONFIG_PREFIX + e.name(), e.value());
        }
      }
    } catch (KafkaAdmin.Failure f) {
      // Writing needs only WRITE/DESCRIBE on the topic, not DESCRIBE_CONFIGS (and some
      // Kafka-compatible brokers do not answer it): the table loads without its settings.
      LOG.debug(
          "tessera-kafka: settings of topic {} not shown: {}", topic, f.getCause().toString());
    }
    return new KafkaTable(name + "." + topic, topic, options, properties);
  }

  /** The topic's description, or empty when there is no such topic. */
  private Optional<TopicDescription> describe(Identifier ident) {
    if (ident.namespace().length != 0) {
      return Optional.empty();
    }
    String topic = ident.name();
    if (isLedger(topic)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          admin.call(a -> a.describeTopics(List.of(topic)).allTopicNames().get().get(topic)));
    } catch (KafkaAdmin.Failure f) {
      if (f.getCause() instanceof UnknownTopicOrPartitionException
          || f.getCause() instanceof InvalidTopicException) {
        return Optional.empty();
      }
      throw admin.describe("Describing topic '" + topic + "'", f.getCause());
    }
  }

  @Override
  public Table createTable(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    if (ident.namespace().length != 0) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    String topicName = ident.name();
    KafkaSchema.validateTopicName(topicName, "Table name");
    Map<String, String> props = info.properties();
    Map<String, String> configs = new TreeMap<>();
    props.forEach(
        (k, v) -> {
          if (k.startsWith(TOPIC_CONFIG_PREFIX)) {
            // The broker decides which topic settings exist (brokers of other vendors and newer
            // versions have their own); a refusal gets a nearest-name hint below.
            configs.put(k.substring(TOPIC_CONFIG_PREFIX.length()), v);
          } else if (k.equals(TableCatalog.PROP_LOCATION)) {
            throw new TesseraException(
                TesseraError.INVALID_OPTION_VALUE,
                "Table property 'location' = '"
                    + v
                    + "' cannot apply to Kafka topic '"
                    + topicName
                    + "': a topic lives on the brokers. Remove LOCATION. Nothing was created");
          } else if (!k.equals(PARTITIONS)
              && !k.equals(REPLICATION)
              && !SPARK_PROPERTIES.contains(k)
              && !k.startsWith(SPARK_OPTION_PREFIX)) {
            throw unknownProperty(
                k, EditDistance.nearest(k, List.of(PARTITIONS, REPLICATION)), false);
          }
        });
    Optional<Integer> partitions =
        Optional.ofNullable(props.get(PARTITIONS)).map(v -> positive(PARTITIONS, v));
    Optional<Short> replication =
        Optional.ofNullable(props.get(REPLICATION)).map(v -> (short) positive(REPLICATION, v));
    NewTopic topic = new NewTopic(topicName, partitions, replication).configs(configs);
    try {
      admin.call(a -> a.createTopics(List.of(topic)).all().get());
    } catch (KafkaAdmin.Failure f) {
      Throwable cause = f.getCause();
      if (cause instanceof TopicExistsException) {
        throw new TableAlreadyExistsException(ident);
      }
      if (cause instanceof InvalidReplicationFactorException) {
        throw invalidProperty(
            REPLICATION,
            props.get(REPLICATION),
            cause,
            "use at most the" + " number of brokers, or leave it out for the broker's default");
      }
      if (cause instanceof InvalidPartitionsException) {
        throw invalidProperty(PARTITIONS, props.get(PARTITIONS), cause, "use a positive number");
      }
      if (cause instanceof InvalidConfigurationException) {
        StringBuilder hints = new StringBuilder();
        for (String setting : configs.keySet()) {
          String nearest =
              TOPIC_CONFIGS.contains(setting) ? null : EditDistance.nearest(setting, TOPIC_CONFIGS);
          if (nearest != null) {
            hints
                .append("; for '")
                .append(TOPIC_CONFIG_PREFIX)
                .append(setting)
                .append("' did you mean '")
                .append(TOPIC_CONFIG_PREFIX)
                .append(nearest)
                .append("'?");
          }
        }
        throw new TesseraException(
            TesseraError.INVALID_OPTION_VALUE,
            "Kafka refused the topic settings "
                + configs
                + " of table "
                + name
                + "."
                + topicName
                + ": "
                + cause.getMessage()
                + hints
                + "; fix the config.* table properties. Nothing was created",
            cause);
      }
      throw admin.describe("Creating topic '" + topicName + "'", cause);
    }
    try {
      waitForLeaders(topicName);
      return loadTable(ident);
    } catch (NoSuchTableException | RuntimeException e) {
      // The topic is ours and unusable (no leaders, or it cannot be described): remove it, so
      // that a retry of the CREATE does not meet "already exists".
      try {
        deleteCreatedTopic(topicName);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("Topic " + topicName + " vanished right after creation", e);
    }
  }

  /**
   * Waits until every partition of a new topic has a leader that answers, so that a write right
   * after {@code CREATE TABLE} does not loop on missing metadata.
   */
  private void waitForLeaders(String topic) {
    long deadline = System.nanoTime() + admin.timeoutMs() * 1_000_000L;
    while (true) {
      try {
        TopicDescription d =
            admin.call(a -> a.describeTopics(List.of(topic)).allTopicNames().get().get(topic));
        if (d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
          Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
          d.partitions()
              .forEach(
                  p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
          admin.call(a -> a.listOffsets(latest).all().get());
          return;
        }
      } catch (KafkaAdmin.Failure f) {
        if (!(f.getCause() instanceof RetriableException)) {
          throw admin.describe(
              "Waiting for the leaders of new topic '" + topic + "'", f.getCause());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new TesseraException(
            TesseraError.CONNECTION_FAILED,
            "Topic '"
                + topic
                + "' was created but not every partition had a leader within "
                + admin.timeoutMs()
                + " ms; check the brokers' health before writing to it");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted waiting for topic " + topic, e);
      }
    }
  }

  private TesseraException unknownProperty(String key, String nearest, boolean topicConfig) {
    String hint =
        nearest != null
            ? "did you mean '" + (topicConfig ? TOPIC_CONFIG_PREFIX : "") + nearest + "'?"
            : topicConfig
                ? "use a Kafka topic setting, e.g. 'config.retention.ms' or 'config.cleanup.policy'"
                : "valid properties are 'partitions', 'replication' and 'config.<topic setting>'";
    return new TesseraException(
        TesseraError.UNKNOWN_OPTION,
        "Unknown table property '"
            + key
            + "' for a Kafka topic; "
            + hint
            + ". Nothing was created");
  }

  private static TesseraException invalidProperty(
      String property, String value, Throwable cause, String fix) {
    return new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Table property '"
            + property
            + "' = "
            + (value == null ? "(broker default)" : "'" + value + "'")
            + " was refused by Kafka: "
            + cause.getMessage()
            + "; "
            + fix,
        cause);
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
    if (describe(ident).isPresent()) {
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
    admin.run("Deleting topic '" + topic + "'", a -> a.deleteTopics(List.of(topic)).all().get());
  }

  @Override
  public Table alterTable(Identifier ident, TableChange... changes) {
    throw new UnsupportedOperationException(
        "tessera-kafka does not alter topics; use Kafka's admin tools");
  }

  /**
   * Deletes the topic, and with it every record, only when the catalog was configured with {@code
   * allowDropTopic=true}; otherwise refused with a message that says how.
   */
  @Override
  public boolean dropTable(Identifier ident) {
    if (describe(ident).isEmpty()) {
      return false;
    }
    if (!allowDropTopic) {
      throw new TesseraException(
          TesseraError.UNSUPPORTED_WRITE_MODE,
          "DROP TABLE "
              + name
              + "."
              + ident.name()
              + " would delete Kafka topic '"
              + ident.name()
              + "' and all its records, so it is refused. Nothing was changed. To allow it, set"
              + " spark.sql.catalog."
              + name
              + ".allowDropTopic=true, or delete the topic with Kafka's tools");
    }
    admin.run(
        "Deleting topic '" + ident.name() + "'",
        a -> a.deleteTopics(List.of(ident.name())).all().get());
    return true;
  }

  @Override
  public void renameTable(Identifier from, Identifier to) {
    throw new UnsupportedOperationException("Kafka topics cannot be renamed");
  }
}
