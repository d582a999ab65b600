package io.tessera.kafka;

import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.options.ParsedOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.SupportsTruncate;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.internal.connector.SupportsStreamingUpdateAsAppend;

/**
 * Decides a Kafka write once: options (write option over table/catalog option), the input schema,
 * and what truncate means. A topic cannot be emptied atomically, so truncate (INSERT OVERWRITE,
 * SaveMode.Overwrite, streaming complete mode) is refused unless {@code allowTruncateAsNoop} says
 * to treat it as an append. Streaming update mode is an append: each updated row is sent as a
 * record (with a key, compacted topics keep the latest one per key).
 *
 * <p>Routing: a catalog table is one topic, so a {@code topic} column is refused (a mirror job that
 * passes a source's {@code topic} through must not write back into the source). With the provider,
 * the {@code topic} option and a {@code topic} column are alternatives; both together are refused.
 */
public class KafkaWriteBuilder implements SupportsTruncate, SupportsStreamingUpdateAsAppend {
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
    boolean exactlyOnce =
        options.get(KafkaWriteOptions.DELIVERY) == KafkaWriteOptions.Delivery.EXACTLY_ONCE;
    if (exactlyOnce) {
      checkTransactionalIdPrefix(options.get(KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX));
      OpenTransactions.checkSupported();
    } else if (options.isSet(KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX)) {
      throw TesseraErrors.invalidOptionValue(
          KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX.name(),
          "'" + options.get(KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX) + "'",
          "set together with delivery=exactly-once (it names that mode's transactions); remove"
              + " it, or add option 'delivery'='exactly-once'");
    }
    KafkaSchema schema = KafkaSchema.of(info.schema());
    String topic;
    if (table.isCatalogTable()) {
      topic = table.topic();
      if (schema.topic >= 0) {
        throw TesseraErrors.schemaMismatch(
            "Column 'topic' cannot be written to table "
                + table.name()
                + ": every row of it goes to topic '"
                + topic
                + "'. Drop the column (e.g. df.drop(\"topic\")), or write to each topic's own"
                + " table; a column passed through from a Kafka source would otherwise name the"
                + " source topic");
      }
      if (options.isSet(KafkaWriteOptions.TOPIC)) {
        throw TesseraErrors.invalidOptionValue(
            KafkaWriteOptions.TOPIC.name(),
            "'" + options.get(KafkaWriteOptions.TOPIC) + "'",
            "no value: table " + table.name() + " is topic '" + topic + "'; remove the option");
      }
    } else {
      topic = options.get(KafkaWriteOptions.TOPIC);
      if (topic != null && schema.topic >= 0) {
        throw TesseraErrors.schemaMismatch(
            "Option 'topic' ('"
                + topic
                + "') and column 'topic' are both given, so it is unclear where each row goes."
                + " Drop the column to send every row to '"
                + topic
                + "', or remove the option to route each row by its 'topic' column");
      }
      if (topic == null && schema.topic < 0) {
        throw TesseraErrors.schemaMismatch(
            "tessera-kafka does not know which topic to write to: set option 'topic' or add a"
                + " 'topic' column");
      }
    }
    if (topic != null) {
      KafkaSchema.validateTopicName(topic, "Topic");
    }
    // A streaming query builds its write again for every micro-batch: validate the producer
    // settings and check the topic once per table and options.
    Map<String, Object> producerConfig = table.producerConfig(merged, options);
    if (!table.isCatalogTable() && topic != null && table.firstUseOfTopic(topic)) {
      new KafkaAdmin(options).requireTopic(topic, producerConfig);
    }
    return new KafkaWrite(table.name(), topic, schema, options, producerConfig, info.queryId());
  }

  /**
   * The prefix names every transaction of the sink; a later write under it completes or aborts what
   * an earlier one left open, so it is required, and made of characters that cannot be confused
   * with the '.' Tessera puts between the parts of a transactional id.
   */
  static void checkTransactionalIdPrefix(String prefix) {
    String option = KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX.name();
    if (prefix == null || prefix.isBlank()) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.MISSING_OPTION,
          "delivery=exactly-once needs option '"
              + option
              + "': a name unique to this sink (e.g. the job or query name), which starts every"
              + " Kafka transactional id the write uses. A later run with the same prefix"
              + " completes or aborts what a crashed run left open; two sinks sharing one would"
              + " abort each other's transactions");
    }
    if (!prefix.matches("[A-Za-z0-9_-]{1,100}")) {
      throw TesseraErrors.invalidOptionValue(
          option,
          "'" + prefix + "'",
          "1 to 100 letters, digits, '-' or '_' (e.g. 'orders-to-kafka')");
    }
  }
}
