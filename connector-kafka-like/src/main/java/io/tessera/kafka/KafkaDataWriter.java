package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.redact.Redaction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;

/**
 * Executor side, one per task attempt: sends each row as a record through the executor's pooled
 * idempotent producer ({@link ProducerPool}), leased at the first row, so an empty partition
 * creates no producer. Sends are asynchronous; this task's first failure is remembered and fails
 * the next {@link #write} or {@link #commit}, which flushes and re-checks, so a task reports
 * success only when every one of its records was acknowledged. Bad values (a partition the topic
 * does not have, a timestamp before 1970, a null header) fail the row before it is sent, naming
 * column and value.
 *
 * <p>With delivery=exactly-once ({@code transactionalId} set) the task attempt has its own
 * transactional producer instead (never pooled: its transaction belongs to this attempt): it begins
 * a transaction at the first row, and its commit flushes, reports the open transaction to the
 * driver and closes the producer without ending the transaction. Only the driver commits it, and
 * only if Spark chose this attempt; an aborted attempt aborts its own transaction.
 */
final class KafkaDataWriter implements DataWriter<InternalRow> {
  private static final Duration ABORT_CLOSE_TIMEOUT = Duration.ofSeconds(5);
  private final int partitionId;
  private final String defaultTopic;
  private final KafkaSchema schema;
  private final List<String> secrets;
  private final String servers;
  private final Map<String, Object> producerConfig;
  private final Map<String, Integer> partitionCounts = new HashMap<>();
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong sendErrors = new AtomicLong();
  private ProducerPool.Lease lease;
  private final String transactionalId;
  private KafkaProducer<byte[], byte[]> transactional;
  private long transactionStartMs;
  private long records;
  private long bytes;

  KafkaDataWriter(
      int partitionId,
      String defaultTopic,
      KafkaSchema schema,
      Map<String, Object> producerConfig,
      List<String> secrets,
      String transactionalId) {
    this.partitionId = partitionId;
    this.transactionalId = transactionalId;
    this.defaultTopic = defaultTopic;
    this.schema = schema;
    this.secrets = secrets;
    this.producerConfig = producerConfig;
    this.servers = String.valueOf(producerConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
  }

  private KafkaProducer<byte[], byte[]> producer() {
    if (transactionalId != null) {
      if (transactional == null) {
        transactional = beginTransaction();
      }
      return transactional;
    }
    if (lease == null) {
      try {
        lease = ProducerPool.acquire(producerConfig);
      } catch (KafkaException e) {
        throw failed("Creating the Kafka producer failed", e);
      }
    }
    return lease.producer();
  }

  /** A producer of this attempt's own, in a new transaction. */
  private KafkaProducer<byte[], byte[]> beginTransaction() {
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    KafkaProducer<byte[], byte[]> p;
    try {
      p = new KafkaProducer<>(config);
    } catch (KafkaException e) {
      throw failed("Creating the Kafka producer failed", e);
    }
    try {
      p.initTransactions();
      p.beginTransaction();
    } catch (KafkaException e) {
      p.close(Duration.ZERO);
      throw failed("Starting Kafka transaction '" + transactionalId + "' failed", e);
    }
    transactionStartMs = System.currentTimeMillis();
    return p;
  }

  @Override
  public void write(InternalRow row) {
    checkFailure();
    KafkaProducer<byte[], byte[]> producer = producer();
    ProducerRecord<byte[], byte[]> record = toRecord(row, producer);
    try {
      producer.send(
          record,
          (metadata, e) -> {
            if (e != null) {
              sendErrors.incrementAndGet();
              failure.compareAndSet(null, e);
            }
          });
    } catch (KafkaException e) {
      failure.compareAndSet(null, e);
      throw failed("Sending to topic '" + record.topic() + "' failed", e);
    }
    records++;
    bytes +=
        (record.key() == null ? 0 : record.key().length)
            + (record.value() == null ? 0 : record.value().length);
  }

  private ProducerRecord<byte[], byte[]> toRecord(
      InternalRow row, KafkaProducer<byte[], byte[]> producer) {
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
    // A null value is sent as a tombstone (a delete marker for compacted topics), as Spark does.
    byte[] value =
        row.isNullAt(schema.value) ? null : bytes(row, schema.value, schema.valueIsString);
    byte[] key =
        schema.key >= 0 && !row.isNullAt(schema.key)
            ? bytes(row, schema.key, schema.keyIsString)
            : null;
    Integer partition = null;
    if (schema.partition >= 0 && !row.isNullAt(schema.partition)) {
      partition = row.getInt(schema.partition);
      checkPartition(topic, partition, producer);
    }
    Long timestamp = null;
    if (schema.timestamp >= 0 && !row.isNullAt(schema.timestamp)) {
      long micros = row.getLong(schema.timestamp);
      if (micros < 0) {
        throw badValue(
            "timestamp",
            Instant.ofEpochSecond(
                    Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)
                .toString(),
            topic,
            "Kafka record timestamps start at 1970-01-01T00:00:00Z; filter such rows out or"
                + " leave the timestamp null (the producer then sets the send time)");
      }
      timestamp = Math.floorDiv(micros, 1000L);
    }
    List<Header> headers = null;
    if (schema.headers >= 0 && !row.isNullAt(schema.headers)) {
      ArrayData array = row.getArray(schema.headers);
      headers = new ArrayList<>(array.numElements());
      for (int i = 0; i < array.numElements(); i++) {
        if (array.isNullAt(i)) {
          throw badValue(
              "headers",
              "null at index " + i,
              topic,
              "every header must be a struct(key, value); remove null elements, e.g. with"
                  + " filter(headers, h -> h is not null)");
        }
        InternalRow h = array.getStruct(i, 2);
        if (h.isNullAt(0)) {
          throw badValue(
              "headers",
              "a header with a null key at index " + i,
              topic,
              "Kafka header keys cannot be null (a null header value is fine)");
        }
        headers.add(
            new RecordHeader(h.getUTF8String(0).toString(), h.isNullAt(1) ? null : h.getBinary(1)));
      }
    }
    return new ProducerRecord<>(topic, partition, timestamp, key, value, headers);
  }

  /**
   * Fails a row whose partition the topic does not have, instead of waiting {@code max.block.ms}
   * for metadata that will never show it.
   */
  private void checkPartition(String topic, int partition, KafkaProducer<byte[], byte[]> producer) {
    if (partition < 0) {
      throw badValue(
          "partition",
          String.valueOf(partition),
          topic,
          "partitions are numbered from 0; leave it null to let the producer choose");
    }
    Integer count = partitionCounts.get(topic);
    if (count == null || partition >= count) {
      try {
        count = producer.partitionsFor(topic).size();
      } catch (KafkaException e) {
        throw failed("Reading the partitions of topic '" + topic + "' failed", e);
      }
      partitionCounts.put(topic, count);
    }
    if (partition >= count) {
      throw badValue(
          "partition",
          String.valueOf(partition),
          topic,
          "topic '"
              + topic
              + "' has "
              + count
              + " partitions (0.."
              + (count - 1)
              + "); use a value in that range or leave it null");
    }
  }

  private static TesseraException badValue(String column, String value, String topic, String fix) {
    return new TesseraException(
        TesseraError.SCHEMA_MISMATCH,
        "Column '"
            + column
            + "' has value "
            + value
            + " in a row for topic '"
            + topic
            + "', which Kafka cannot take: "
            + fix);
  }

  /** The field's bytes, never a view into the reused row. */
  private static byte[] bytes(InternalRow row, int ordinal, boolean isString) {
    // Both calls return fresh arrays for Spark's rows (UnsafeRow copies on read).
    return isString ? row.getUTF8String(ordinal).getBytes() : row.getBinary(ordinal);
  }

  @Override
  public KafkaCommitMessage commit() {
    KafkaProducer<byte[], byte[]> p = transactional != null ? transactional : leased();
    if (p != null) {
      try {
        p.flush();
      } catch (KafkaException e) {
        failure.compareAndSet(null, e);
        throw failed("Flushing records failed", e);
      }
    }
    checkFailure();
    if (transactional == null) {
      return new KafkaCommitMessage(
          partitionId, records, bytes, lease == null ? 0 : lease.claimRetries(), null, 0);
    }
    OpenTransactions.Handle handle = OpenTransactions.handleOf(transactional, transactionalId);
    long retries = (long) ProducerPool.retryTotal(transactional);
    // The driver completes the transaction: close without ending it.
    OpenTransactions.leaveOpen(transactional);
    transactional = null;
    return new KafkaCommitMessage(partitionId, records, bytes, retries, handle, transactionStartMs);
  }

  private KafkaProducer<byte[], byte[]> leased() {
    return lease == null ? null : lease.producer();
  }

  @Override
  public void abort() {
    release();
  }

  @Override
  public void close() {
    release();
  }

  /**
   * Returns the pooled producer; one that failed a send of this task is retired. An attempt's own
   * transactional producer that was not committed aborts its transaction (if that fails, the driver
   * fences the id, or the brokers abort it after transaction.timeout.ms).
   */
  private void release() {
    if (lease != null) {
      lease.release(failure.get() != null);
    }
    if (transactional != null) {
      KafkaProducer<byte[], byte[]> p = transactional;
      transactional = null;
      try {
        p.abortTransaction();
        p.close(ABORT_CLOSE_TIMEOUT);
      } catch (KafkaException | IllegalStateException e) {
        p.close(Duration.ZERO);
      }
    }
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return TesseraMetrics.taskMetrics(records, bytes);
  }

  private void checkFailure() {
    Exception e = failure.get();
    if (e != null) {
      throw failed(
          "Kafka refused or lost "
              + sendErrors.get()
              + " of the "
              + records
              + " records this task sent",
          e);
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
            + "; "
            + advice(e),
        Redaction.redactThrowable(e, secrets));
  }

  private String advice(Exception e) {
    if (e instanceof org.apache.kafka.common.errors.TransactionalIdAuthorizationException) {
      return "the Kafka user may not use this transactional id: grant WRITE and DESCRIBE on"
          + " transactional ids with the prefix of option 'transactionalIdPrefix' (a PREFIXED"
          + " ACL)";
    }
    if (e instanceof org.apache.kafka.common.errors.InvalidTxnTimeoutException) {
      return "kafka.transaction.timeout.ms is above the brokers' transaction.max.timeout.ms:"
          + " lower the setting, or raise the brokers' limit";
    }
    if (e instanceof org.apache.kafka.common.errors.UnsupportedVersionException) {
      return "these brokers do not support transactions: delivery=exactly-once needs Kafka"
          + " 3.0 or later; use delivery=at-least-once";
    }
    if (transactionalId != null
        && e instanceof org.apache.kafka.common.errors.TimeoutException
        && transactional == null) {
      return "no transaction coordinator answered: the brokers' transaction state log may lack"
          + " replicas (transaction.state.log.replication.factor and min.isr must not exceed the"
          + " live brokers), or raise kafka.max.block.ms";
    }
    if (e instanceof RecordTooLargeException) {
      return "the record is larger than kafka.max.request.size or the topic's max.message.bytes:"
          + " make the value smaller or raise both";
    }
    if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
      return "check that the brokers are reachable and the topic exists, or raise"
          + " kafka.max.block.ms / kafka.delivery.timeout.ms";
    }
    if (e instanceof AuthenticationException || e instanceof AuthorizationException) {
      return "check the kafka.security.* / kafka.sasl.* settings and the topic's ACLs";
    }
    return "check the brokers and the topic";
  }
}
