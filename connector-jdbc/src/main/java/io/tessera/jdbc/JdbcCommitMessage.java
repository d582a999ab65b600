package io.tessera.jdbc;

import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * What a task attempt reports after its rows are durably in the staging table (or, in direct mode,
 * in the target): which partition, which attempt tagged the rows, and how many.
 */
public record JdbcCommitMessage(int partitionId, long taskId, long rows, long bytes)
    implements WriterCommitMessage {}
