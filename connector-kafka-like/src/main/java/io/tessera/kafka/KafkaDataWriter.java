package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.redact.Redaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;

/**
 * Executor side, one per task attempt: sends each row as a record with an idempotent producer.
 * Sends are asynchronous; the first failure is remembered and fails the next {@link #write} or
 * {@link #commit}, which flushes and re-checks, so a task reports success only when every one of
 * its records was acknowledged. The producer is closed on every path.
 */
final class KafkaDataWriter implements DataWriter<InternalRow> {
  private final int partitionId;
  private final String defaultTopic;
  private final KafkaSchema schema;
  private final List<String> secrets;
  private final String servers;
  private final KafkaProducer<byte[], byte[]> producer;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private long records;
  private long bytes;

  KafkaDataWriter(
      int partitionId,
      String defaultTopic,
      KafkaSchema schema,
      Map<String, Object> producerConfig,
      List<String> secrets) {
    this.partitionId = partitionId;
    this.defaultTopic = defaultTopic;
    this.schema = schema;
    this.secrets = secrets;
    this.servers = String.valueOf(producerConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
    try {
      this.producer = new KafkaProducer<>(new HashMap<>(producerConfig));
    } catch (KafkaException e) {
      throw failed("Creating the Kafka producer failed", e);
    }
  }

  @Override
  public void write(InternalRow row) {
    checkFailure();
    ProducerRecord<byte[], byte[]> record = toRecord(row);
    try {
      producer.send(
          record,
          (metadata, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            }
          });
    } catch (KafkaException e) {
      throw failed("Sending to topic '" + record.topic() + "' failed", e);
    }
    records++;
    bytes += (record.key() == null ? 0 : record.key().length) + record.value().length;
  }

  private ProducerRecord<byte[], byte[]> toRecord(InternalRow row) {
    String topic =
        schema.topic >= 0 && !row.isNullAt(schema.topic)
            ? row.getUTF8String(schema.topic).toString()
            : defaultTopic;
    if (topic == null) {
      throw new TesseraException(
          TesseraError.SCHEMA_MISMATCH,
          "A row has a null 'topic' and no default topic is set; set option 'topic' or filter"
              + " out rows with a null topic");
    }
    if (row.isNullAt(schema.value)) {
      throw new TesseraException(
          TesseraError.SCHEMA_MISMATCH,
          "A row for topic '"
              + topic
              + "' has a null 'value'; Kafka records need a value here"
              + " (filter such rows out or use coalesce(value, ...))");
    }
    byte[] value = bytes(row, schema.value, schema.valueIsString);
    byte[] key =
        schema.key >= 0 && !row.isNullAt(schema.key)
            ? bytes(row, schema.key, schema.keyIsString)
            : null;
    Integer partition =
        schema.partition >= 0 && !row.isNullAt(schema.partition)
            ? row.getInt(schema.partition)
            : null;
    Long timestamp =
        schema.timestamp >= 0 && !row.isNullAt(schema.timestamp)
            ? Math.floorDiv(row.getLong(schema.timestamp), 1000L)
            : null;
    List<Header> headers = null;
    if (schema.headers >= 0 && !row.isNullAt(schema.headers)) {
      ArrayData array = row.getArray(schema.headers);
      headers = new ArrayList<>(array.numElements());
      for (int i = 0; i < array.numElements(); i++) {
        InternalRow h = array.getStruct(i, 2);
        headers.add(
            new RecordHeader(h.getUTF8String(0).toString(), h.isNullAt(1) ? null : h.getBinary(1)));
      }
    }
    return new ProducerRecord<>(topic, partition, timestamp, key, value, headers);
  }

  /** The field's bytes, never a view into the reused row. */
  private static byte[] bytes(InternalRow row, int ordinal, boolean isString) {
    // Both calls return fresh arrays for Spark's rows (UnsafeRow copies on read).
    return isString ? row.getUTF8String(ordinal).getBytes() : row.getBinary(ordinal);
  }

  @Override
  public KafkaCommitMessage commit() {
    try {
      producer.flush();
    } catch (KafkaException e) {
      throw failed("Flushing records failed", e);
    }
    checkFailure();
    return new KafkaCommitMessage(partitionId, records, bytes);
  }

  @Override
  public void abort() {
    producer.close(Duration.ZERO);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return TesseraMetrics.taskMetrics(records, bytes);
  }

  private void checkFailure() {
    Exception e = failure.get();
    if (e != null) {
      throw failed("Kafka refused or lost a record", e);
    }
  }

  private TesseraException failed(String what, Exception e) {
    return new TesseraException(
        TesseraError.SEND_FAILED,
        what
            + " (partition "
            + partitionId
            + ", brokers "
            + servers
            + "): "
            + Redaction.redactText(e.toString(), secrets)
            + "; check the brokers and topic, or raise kafka.max.block.ms /"
            + " kafka.delivery.timeout.ms",
        Redaction.redactThrowable(e, secrets));
  }
}
