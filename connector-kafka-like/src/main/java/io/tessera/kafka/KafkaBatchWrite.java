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
 *
 * <p>With delivery=exactly-once ({@code committer} set) the records wait in open transactions, one
 * per task attempt, until {@link #commit} has the committer commit those of the attempts Spark
 * chose (and abort the others); {@link #abort} aborts them all, so a failed job shows nothing to
 * {@code read_committed} consumers.
 */
final class KafkaBatchWrite implements BatchWrite {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaBatchWrite.class);

  private final String tableName;
  private final KafkaWriterFactory factory;
  private final AtomicLong commitMillis;
  private final AtomicLong retries;
  private final ExactlyOnceCommitter committer;
  private final String token;

  KafkaBatchWrite(
      String tableName,
      KafkaWriterFactory factory,
      AtomicLong commitMillis,
      AtomicLong retries,
      ExactlyOnceCommitter committer,
      String token) {
    this.tableName = tableName;
    this.factory = factory;
    this.commitMillis = commitMillis;
    this.retries = retries;
    this.committer = committer;
    this.token = token;
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    return factory;
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    long start = System.nanoTime();
    if (committer != null) {
      warnNearTimeout(messages, committer.transactionTimeoutMs(), tableName);
      committer.commit(token, transactions(messages), null, -1, false);
      LOG.info(
          "tessera-kafka: {} records committed to {} (delivery=exactly-once)",
          records(messages),
          tableName);
      retries.set(retries(messages));
      commitMillis.set((System.nanoTime() - start) / 1_000_000L);
      return;
    }
    // Every record was acknowledged before its task succeeded: the commit only reports.
    LOG.info("tessera-kafka: {} records acknowledged for {}", records(messages), tableName);
    retries.set(retries(messages));
    commitMillis.set((System.nanoTime() - start) / 1_000_000L);
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    if (committer != null) {
      committer.abort(token, transactions(messages));
      LOG.warn(
          "tessera-kafka: write to {} failed; its transactions were aborted, so"
              + " read_committed consumers see none of its records (delivery=exactly-once)",
          tableName);
      return;
    }
    LOG.warn(
        "tessera-kafka: write to {} failed; {} records of tasks that finished were delivered and"
            + " stay in Kafka, and records of failed task attempts may have been delivered too"
            + " (delivery=at-least-once)",
        tableName,
        records(messages));
  }

  /** The open transactions the tasks reported (tasks that sent nothing have none). */
  static java.util.List<OpenTransactions.Handle> transactions(WriterCommitMessage[] messages) {
    return Arrays.stream(messages)
        .filter(Objects::nonNull)
        .map(m -> ((KafkaCommitMessage) m).transaction())
        .filter(Objects::nonNull)
        .toList();
  }

  /**
   * Warns when the oldest transaction of the write ran for more than 80% of {@code
   * transaction.timeout.ms}: a somewhat longer write would have its transactions aborted.
   */
  static void warnNearTimeout(WriterCommitMessage[] messages, long timeoutMs, String tableName) {
    long oldest =
        Arrays.stream(messages)
            .filter(Objects::nonNull)
            .map(m -> (KafkaCommitMessage) m)
            .filter(m -> m.transaction() != null)
            .mapToLong(KafkaCommitMessage::transactionStartMs)
            .min()
            .orElse(Long.MAX_VALUE);
    long age = System.currentTimeMillis() - oldest;
    if (oldest != Long.MAX_VALUE && age > timeoutMs * 8 / 10) {
      LOG.warn(
          "tessera-kafka: the write to {} kept a transaction open for {} ms of the {} ms"
              + " kafka.transaction.timeout.ms allows; a longer write will fail (raise the"
              + " setting, and the brokers' transaction.max.timeout.ms if needed)",
          tableName,
          age,
          timeoutMs);
    }
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
