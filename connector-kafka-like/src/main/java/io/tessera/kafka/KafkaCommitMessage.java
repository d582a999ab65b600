package io.tessera.kafka;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * A task's report: all its records were acknowledged by the brokers; {@code retries} is what the
 * producer retried while the task ran (reported by the driver, since Spark reads task metrics only
 * before a task's commit, and most retries happen in its final flush). With delivery=exactly-once,
 * {@code transaction} is the task attempt's open transaction (null when it sent nothing) and {@code
 * transactionStartMs} when it began.
 */
public record KafkaCommitMessage(
    int partitionId,
    long records,
    long bytes,
    long retries,
    OpenTransactions.Handle transaction,
    long transactionStartMs)
    implements WriterCommitMessage {}
