package io.tessera.common.metrics;

import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * Executor side: counts what one data writer wrote. Not thread-safe; a data writer is used by one
 * thread.
 */
public final class TaskWriteCounter {
  private long rows;
  private long bytes;

  public void add(long rowCount, long byteCount) {
    rows += rowCount;
    bytes += byteCount;
  }

  public long rows() {
    return rows;
  }

  public long bytes() {
    return bytes;
  }

  /** What a {@code DataWriter.currentMetricsValues()} returns. */
  public CustomTaskMetric[] current() {
    return new CustomTaskMetric[] {
      TesseraMetrics.value(TesseraMetrics.ROWS_WRITTEN, rows),
      TesseraMetrics.value(TesseraMetrics.BYTES_WRITTEN, bytes)
    };
  }
}
