package io.tessera.file;

import java.util.function.Supplier;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * Driver side of a batch write: one log entry on commit, staged files dropped on abort. For a
 * staged CTAS / RTAS the commit is left to {@code commitStagedChanges()} (see {@link FileStaging}).
 */
final class FileBatchWrite implements BatchWrite {
  private final Supplier<FileWrite.Prepared> prepare;
  private final java.util.concurrent.atomic.AtomicLong commitMillis;
  private final FileStaging.Pending staged;
  private FileWrite.Prepared prepared;

  FileBatchWrite(
      Supplier<FileWrite.Prepared> prepare,
      java.util.concurrent.atomic.AtomicLong commitMillis,
      FileStaging.Pending staged) {
    this.prepare = prepare;
    this.commitMillis = commitMillis;
    this.staged = staged;
  }

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    prepared = prepare.get();
    return prepared.factory();
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    if (staged != null) {
      staged.written(prepared.committer(), messages);
      return;
    }
    long start = System.nanoTime();
    prepared.committer().commit(messages, null);
    commitMillis.set((System.nanoTime() - start) / 1_000_000);
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    if (prepared != null) {
      prepared.committer().abort();
    }
  }
}
