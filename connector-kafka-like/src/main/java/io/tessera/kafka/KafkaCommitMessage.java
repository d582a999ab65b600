package io.tessera.kafka;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/** A task's report: all its records were acknowledged by the brokers. */
public record KafkaCommitMessage(int partitionId, long records, long bytes)
    implements WriterCommitMessage {}
