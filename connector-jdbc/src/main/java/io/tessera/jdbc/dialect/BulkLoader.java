package io.tessera.jdbc.dialect;

import java.sql.SQLException;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Executor side: streams one task's rows into a table on the task's own connection and transaction.
 * Nothing is held back in memory beyond one batch or buffer; nothing is committed here (the data
 * writer commits or rolls back the connection).
 */
public interface BulkLoader {
  /** Sends one row (the row object is reused by Spark: its values are read here, not kept). */
  void add(InternalRow row) throws SQLException;

  /** Sends everything still buffered. */
  void flush() throws SQLException;

  /** Stops a load in progress after a failure; never throws. */
  void cancel();

  long rows();

  /** Payload bytes sent (exact for COPY, an estimate for INSERT batches). */
  long bytes();
}
