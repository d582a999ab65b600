package io.tessera.kafka;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * A task's report: all its records were acknowledged by the brokers; {@code retries} is what the
 * producer retried while the task ran (reported by the driver, since Spark reads task metrics only
 * before a task's commit, and most retries happen in its final flush).
 */
public record KafkaCommitMessage(int partitionId, long records, long bytes, long retries)
    implements WriterCommitMessage {}
