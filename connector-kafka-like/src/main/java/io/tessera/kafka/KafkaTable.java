package io.tessera.kafka;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;

/**
 * A Kafka topic as a write-only table: a catalog table is one topic; the provider's table writes to
 * the {@code topic} option and/or each row's {@code topic} column. Accepts any input schema: the
 * columns are checked by {@link KafkaSchema} before any task runs.
 */
public class KafkaTable implements SupportsWrite {
  private static final Set<TableCapability> CAPABILITIES =
      Set.of(
          TableCapability.BATCH_WRITE,
          TableCapability.STREAMING_WRITE,
          TableCapability.ACCEPT_ANY_SCHEMA,
          TableCapability.TRUNCATE);

  private final String name;
  private final String topic;
  private final Map<String, String> options;
  private final Map<String, String> properties;
  private final boolean catalogTable;

  /**
   * A catalog table: one topic, every row goes to it.
   *
   * @param options catalog options (write options are laid over them per write)
   * @param properties what DESCRIBE shows: partitions, replication, non-default topic settings
   */
  KafkaTable(
      String name, String topic, Map<String, String> options, Map<String, String> properties) {
    this.name = name;
    this.topic = topic;
    this.options = options;
    this.properties = Map.copyOf(properties);
    this.catalogTable = true;
  }

  /**
   * The provider's table.
   *
   * @param topic the {@code topic} option, or null when each row names its topic
   */
  KafkaTable(String name, String topic, Map<String, String> options) {
    this.name = name;
    this.topic = topic;
    this.options = options;
    this.properties = Map.of();
    this.catalogTable = false;
  }

  private final java.util.Set<String> checkedTopics =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private Map<String, String> validatedOptions;
  private Map<String, Object> validatedConfig;

  /** True the first time a write of this table names {@code topic} (its driver check runs). */
  boolean firstUseOfTopic(String topic) {
    return checkedTopics.add(topic);
  }

  /** The producer configuration for these options, validated once per distinct options. */
  synchronized Map<String, Object> producerConfig(
      Map<String, String> raw, io.tessera.common.options.ParsedOptions options) {
    if (!raw.equals(validatedOptions)) {
      validatedConfig = KafkaWriteOptions.producerConfig(options);
      validatedOptions = Map.copyOf(raw);
    }
    return validatedConfig;
  }

  /** Whether this is a catalog table (one topic) rather than the provider's. */
  boolean isCatalogTable() {
    return catalogTable;
  }

  @Override
  public Map<String, String> properties() {
    return properties;
  }

  @Override
  public String name() {
    return name;
  }

  String topic() {
    return topic;
  }

  Map<String, String> options() {
    return options;
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return KafkaSchema.TABLE_SCHEMA;
  }

  @Override
  public Column[] columns() {
    return org.apache.spark.sql.connector.catalog.CatalogV2Util.structTypeToV2Columns(
        KafkaSchema.TABLE_SCHEMA, false);
  }

  @Override
  public Set<TableCapability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new KafkaWriteBuilder(this, info);
  }
}
