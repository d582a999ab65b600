package io.tessera.kafka;

import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.options.ParsedOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.SupportsTruncate;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;

/**
 * Decides a Kafka write once: options (write option over table/catalog option), the input schema,
 * and what truncate means. A topic cannot be emptied atomically, so truncate (INSERT OVERWRITE,
 * SaveMode.Overwrite, streaming complete mode) is refused unless {@code allowTruncateAsNoop} says
 * to treat it as an append.
 */
public class KafkaWriteBuilder implements SupportsTruncate {
  private final KafkaTable table;
  private final LogicalWriteInfo info;
  private boolean truncate;
  private boolean newTopic;

  KafkaWriteBuilder(KafkaTable table, LogicalWriteInfo info) {
    this.table = table;
    this.info = info;
  }

  /** The topic was created for this write (CTAS): truncating it has nothing to remove. */
  KafkaWriteBuilder forNewTopic() {
    newTopic = true;
    return this;
  }

  @Override
  public WriteBuilder truncate() {
    truncate = true;
    return this;
  }

  @Override
  public Write build() {
    Map<String, String> merged = new LinkedHashMap<>(table.options());
    merged.putAll(info.options().asCaseSensitiveMap());
    ParsedOptions options = KafkaWriteOptions.OPTIONS.parse(merged);
    if (truncate && !newTopic && !options.get(KafkaWriteOptions.ALLOW_TRUNCATE_AS_NOOP)) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-kafka",
          "truncate (INSERT OVERWRITE, mode overwrite, or streaming complete mode) of "
              + table.name(),
          "a Kafka topic cannot be emptied atomically; use append, or set option"
              + " 'allowTruncateAsNoop'='true' to write the rows as a plain append");
    }
    if (options.get(KafkaWriteOptions.DELIVERY) != KafkaWriteOptions.Delivery.AT_LEAST_ONCE) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-kafka",
          "delivery=exactly-once",
          "transactional exactly-once delivery is not available yet; use the default"
              + " delivery=at-least-once");
    }
    String topic = table.topic() != null ? table.topic() : options.get(KafkaWriteOptions.TOPIC);
    if (topic != null) {
      KafkaSchema.validateTopicName(topic, "Topic");
    }
    KafkaSchema schema = KafkaSchema.of(info.schema());
    if (topic == null && schema.topic < 0) {
      throw TesseraErrors.schemaMismatch(
          "tessera-kafka does not know which topic to write to: set option 'topic' or add a"
              + " 'topic' column");
    }
    return new KafkaWrite(table.name(), topic, schema, options);
  }
}
