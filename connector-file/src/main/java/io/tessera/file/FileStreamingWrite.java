package io.tessera.file;

import io.tessera.file.log.LogEntry;
import java.util.function.Supplier;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;

/**
 * Driver side of a streaming write. Each epoch becomes one log entry tagged with (query id, epoch);
 * an epoch that a restarted query replays is found in the log and not written again, which makes
 * the sink exactly-once.
 */
final class FileStreamingWrite implements StreamingWrite {
  private final String queryId;
  private final Supplier<FileWrite.Prepared> prepare;
  private FileWrite.Prepared prepared;

  FileStreamingWrite(String queryId, Supplier<FileWrite.Prepared> prepare) {
    this.queryId = queryId;
    this.prepare = prepare;
  }

  @Override
  public StreamingDataWriterFactory createStreamingWriterFactory(PhysicalWriteInfo info) {
    io.tessera.common.write.MicroBatchOnly.checkDriver("tessera-file");
    prepared = prepare.get();
    return prepared.factory();
  }

  @Override
  public void commit(long epochId, WriterCommitMessage[] messages) {
    prepared.committer().commit(messages, new LogEntry.StreamingEpoch(queryId, epochId));
  }

  @Override
  public void abort(long epochId, WriterCommitMessage[] messages) {
    if (prepared != null) {
      prepared.committer().abort();
    }
  }
}
