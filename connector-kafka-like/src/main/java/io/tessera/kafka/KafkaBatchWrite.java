package io.tessera.kafka;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of a batch write, at-least-once: every task's records are acknowledged before the
 * task reports success, so a successful job lost nothing. Kafka has no way to take back records, so
 * a failed job leaves the records its finished tasks sent (said in the log), records of failed or
 * speculative attempts that were acknowledged, and a retried task may send some records twice.
 */
final class KafkaBatchWrite implements BatchWrite {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaBatchWrite.class);

  private final String tableName;
  private final KafkaWriterFactory factory;
  private final AtomicLong commitMillis;
  private final AtomicLong retries;

  KafkaBatchWrite(
      String tableName, KafkaWriterFactory factory, AtomicLong commitMillis, AtomicLong retries) {
    this.tableName = tableName;
    this.factory = factory;
    this.commitMillis = commitMillis;
    this.retries = retries;
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    return factory;
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    // Every record was acknowledged before its task succeeded: the commit only reports.
    long start = System.nanoTime();
    LOG.info("tessera-kafka: {} records acknowledged for {}", records(messages), tableName);
    retries.set(retries(messages));
    commitMillis.set((System.nanoTime() - start) / 1_000_000L);
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    LOG.warn(
        "tessera-kafka: write to {} failed; {} records of tasks that finished were delivered and"
            + " stay in Kafka, and records of failed task attempts may have been delivered too"
            + " (delivery=at-least-once)",
        tableName,
        records(messages));
  }

  static long retries(WriterCommitMessage[] messages) {
    return Arrays.stream(messages)
        .filter(Objects::nonNull)
        .mapToLong(m -> ((KafkaCommitMessage) m).retries())
        .sum();
  }

  static long records(WriterCommitMessage[] messages) {
    return Arrays.stream(messages)
        .filter(Objects::nonNull)
        .mapToLong(m -> ((KafkaCommitMessage) m).records())
        .sum();
  }
}
