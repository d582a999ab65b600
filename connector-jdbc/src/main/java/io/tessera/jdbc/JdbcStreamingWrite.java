package io.tessera.jdbc;

import io.tessera.common.write.MicroBatchOnly;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;

/**
 * The driver side of one micro-batch of a streaming query (Spark builds a new write per batch).
 * Each epoch is published exactly as an atomic batch write ({@link JdbcBatchWrite}); the same
 * transaction moves the query's ledger row to the epoch. Why that is exactly-once: Spark replays an
 * epoch only when its own commit log lacks it, and then either the database transaction committed
 * (the ledger row says so, the replay is skipped) or it did not (nothing of it is in the table, and
 * the replay writes it once).
 */
final class JdbcStreamingWrite implements StreamingWrite {
  private final String queryId;
  private final JdbcBatchWrite epochWrite;

  JdbcStreamingWrite(String queryId, JdbcBatchWrite epochWrite) {
    this.queryId = queryId;
    this.epochWrite = epochWrite;
  }

  @Override
  public StreamingDataWriterFactory createStreamingWriterFactory(PhysicalWriteInfo info) {
    MicroBatchOnly.checkDriver("tessera-jdbc");
    return (JdbcWriterFactory) epochWrite.createBatchWriterFactory(info);
  }

  @Override
  public void commit(long epochId, WriterCommitMessage[] messages) {
    epochWrite.commitEpoch(queryId, epochId, messages);
  }

  @Override
  public void abort(long epochId, WriterCommitMessage[] messages) {
    epochWrite.abort(messages);
  }
}
