package io.tessera.kafka;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The staged table of a {@code CREATE TABLE ... AS SELECT} into Kafka. A topic cannot be created
 * hidden, so it is created at staging; if the query fails, {@link #abortStagedChanges()} deletes it
 * again. It only ever deletes the topic this CTAS created itself (creation fails if the topic
 * already exists), never one that was there before.
 */
final class KafkaCreatedTopicTable implements StagedTable, SupportsWrite {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaCreatedTopicTable.class);

  private final KafkaTable table;
  private final KafkaCatalog catalog;

  KafkaCreatedTopicTable(KafkaTable table, KafkaCatalog catalog) {
    this.table = table;
    this.catalog = catalog;
  }

  @Override
  public String name() {
    return table.name();
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return table.schema();
  }

  @Override
  public Column[] columns() {
    return table.columns();
  }

  @Override
  public Map<String, String> properties() {
    return table.properties();
  }

  @Override
  public Set<TableCapability> capabilities() {
    return table.capabilities();
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new KafkaWriteBuilder(table, info).forNewTopic();
  }

  /** The records are already in the topic (at-least-once); there is nothing left to publish. */
  @Override
  public void commitStagedChanges() {}

  @Override
  public void abortStagedChanges() {
    try {
      catalog.deleteCreatedTopic(table.topic());
      LOG.warn(
          "tessera-kafka: CREATE TABLE AS SELECT of {} failed; deleted the topic it had created",
          table.name());
    } catch (RuntimeException e) {
      LOG.warn(
          "tessera-kafka: CREATE TABLE AS SELECT of {} failed and the topic it created could not"
              + " be deleted ({}); delete topic '{}' with Kafka's tools if you do not want it",
          table.name(),
          e.getMessage(),
          table.topic());
    }
  }
}
