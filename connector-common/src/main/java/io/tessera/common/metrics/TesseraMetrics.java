package io.tessera.common.metrics;

import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * The custom metrics every Tessera write reports, shown in the Spark UI's SQL tab. Rows and bytes
 * come from the tasks ({@code DataWriter.currentMetricsValues()}); the commit duration from the
 * driver ({@code Write.reportDriverMetrics()}).
 *
 * <p>Spark instantiates the metric classes by reflection, so each has a public no-arg constructor.
 */
public final class TesseraMetrics {
  public static final String ROWS_WRITTEN = "tesseraRowsWritten";
  public static final String BYTES_WRITTEN = "tesseraBytesWritten";
  public static final String COMMIT_DURATION_MS = "tesseraCommitDurationMs";
  public static final String RECORDS_RETRIED = "tesseraRecordsRetried";

  private TesseraMetrics() {}

  /** What a {@code Write.supportedCustomMetrics()} returns. */
  public static CustomMetric[] supported() {
    return new CustomMetric[] {new RowsWritten(), new BytesWritten(), new CommitDuration()};
  }

  /** The common metrics plus the records a producer retried (Kafka; reported by the driver). */
  public static CustomMetric[] supportedWithRetries() {
    return new CustomMetric[] {
      new RowsWritten(), new BytesWritten(), new CommitDuration(), new RecordsRetried()
    };
  }

  /** What a {@code Write.reportDriverMetrics()} returns after a commit that took {@code ms}. */
  public static CustomTaskMetric[] driverMetrics(long commitMillis) {
    return new CustomTaskMetric[] {value(COMMIT_DURATION_MS, commitMillis)};
  }

  /** What a {@code DataWriter.currentMetricsValues()} returns. */
  public static CustomTaskMetric[] taskMetrics(long rows, long bytes) {
    return new CustomTaskMetric[] {value(ROWS_WRITTEN, rows), value(BYTES_WRITTEN, bytes)};
  }

  public static CustomTaskMetric value(String name, long value) {
    return new CustomTaskMetric() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public long value() {
        return value;
      }
    };
  }

  /** Rows written by all tasks (including attempts that were not published). */
  public static final class RowsWritten extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_WRITTEN;
    }

    @Override
    public String description() {
      return "rows written by tasks";
    }
  }

  /** Approximate payload bytes sent by all tasks. */
  public static final class BytesWritten extends CustomSumMetric {
    @Override
    public String name() {
      return BYTES_WRITTEN;
    }

    @Override
    public String description() {
      return "bytes written by tasks";
    }
  }

  /** Milliseconds the driver-side commit took. */
  public static final class CommitDuration extends CustomSumMetric {
    @Override
    public String name() {
      return COMMIT_DURATION_MS;
    }

    @Override
    public String description() {
      return "driver commit time (ms)";
    }
  }

  /** Records the producer sent again after a retriable error (Kafka). */
  public static final class RecordsRetried extends CustomSumMetric {
    @Override
    public String name() {
      return RECORDS_RETRIED;
    }

    @Override
    public String description() {
      return "records retried by the producer";
    }
  }
}
