package io.tessera.file;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
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
    if (isContinuous(
        org.apache.spark.sql.SparkSession.active().sparkContext().getLocalProperty(CONTINUOUS))) {
      throw continuousRefused();
    }
    prepared = prepare.get();
    return prepared.factory();
  }

  /** The local property Spark sets (driver query thread and tasks) for continuous processing. */
  static final String CONTINUOUS =
      org.apache.spark.sql.execution.streaming.continuous.ContinuousExecution$.MODULE$
          .EPOCH_COORDINATOR_ID_KEY();

  static boolean isContinuous(String epochCoordinatorId) {
    return epochCoordinatorId != null;
  }

  /**
   * Continuous processing keeps one task, and so one write id, across all epochs: epochs would
   * overwrite each other's files. Only micro-batch streaming is exactly-once here.
   */
  static TesseraException continuousRefused() {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        "tessera-file does not support the continuous trigger (Trigger.Continuous): its epochs"
            + " cannot be committed exactly once. Use a micro-batch trigger, e.g."
            + " Trigger.ProcessingTime(\"1 second\"); nothing was written");
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
