package io.tessera.jdbc;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DeltaBatchWrite;
import org.apache.spark.sql.connector.write.DeltaWrite;
import org.apache.spark.sql.connector.write.DeltaWriterFactory;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;

/**
 * The write of a row-level operation ({@link JdbcRowLevelOperation}): tasks stage their deletes,
 * updates and inserts like any atomic write's rows, and the driver applies the committed attempts'
 * changes in one publish transaction ({@link DeltaRows}).
 */
final class JdbcDeltaWrite implements DeltaWrite {
  static final String ROWS_DELETED = "tesseraRowsDeleted";
  static final String ROWS_UPDATED = "tesseraRowsUpdated";
  static final String ROWS_INSERTED = "tesseraRowsInserted";

  private final JdbcTable table;
  private final LogicalWriteInfo info;
  private final ParsedOptions options;
  private final WriteMode.RowLevel mode;
  private final AtomicLong commitMillis = new AtomicLong(-1);
  private JdbcBatchWrite batch;

  JdbcDeltaWrite(
      JdbcTable table, LogicalWriteInfo info, ParsedOptions options, WriteMode.RowLevel mode) {
    this.table = table;
    this.info = info;
    this.options = options;
    this.mode = mode;
  }

  /** Shown in {@code EXPLAIN} and the Spark UI; never contains the password. */
  @Override
  public String description() {
    return "tessera-jdbc["
        + table.name()
        + ", "
        + table.dialect().name()
        + ", "
        + mode.describe()
        + ", options="
        + options.describe()
        + "]";
  }

  @Override
  public String toString() {
    return description();
  }

  @Override
  public DeltaBatchWrite toBatch() {
    batch = new JdbcBatchWrite(table, info, options, mode, List.of(), commitMillis);
    JdbcBatchWrite inner = batch;
    return new DeltaBatchWrite() {
      @Override
      public DeltaWriterFactory createBatchWriterFactory(PhysicalWriteInfo physical) {
        return new JdbcDeltaWriterFactory(
            (JdbcWriterFactory) inner.createBatchWriterFactory(physical),
            inner.stagedDeltaSchema(),
            mode.keys());
      }

      @Override
      public void commit(WriterCommitMessage[] messages) {
        inner.commit(messages);
      }

      @Override
      public void abort(WriterCommitMessage[] messages) {
        inner.abort(messages);
      }
    };
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    CustomMetric[] common = TesseraMetrics.supported();
    CustomMetric[] out = java.util.Arrays.copyOf(common, common.length + 3);
    out[common.length] = new RowsDeleted();
    out[common.length + 1] = new RowsUpdated();
    out[common.length + 2] = new RowsInserted();
    return out;
  }

  @Override
  public CustomTaskMetric[] reportDriverMetrics() {
    long ms = commitMillis.get();
    DeltaRows applied = batch == null ? null : batch.deltaRows();
    if (ms < 0 || applied == null) {
      return new CustomTaskMetric[0];
    }
    return new CustomTaskMetric[] {
      TesseraMetrics.value(TesseraMetrics.COMMIT_DURATION_MS, ms),
      TesseraMetrics.value(ROWS_DELETED, applied.deleted()),
      TesseraMetrics.value(ROWS_UPDATED, applied.updated()),
      TesseraMetrics.value(ROWS_INSERTED, applied.inserted())
    };
  }

  /** Spark instantiates the metric classes by reflection: public, with a no-arg constructor. */
  public static final class RowsDeleted extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_DELETED;
    }

    @Override
    public String description() {
      return "rows deleted by the publish";
    }
  }

  public static final class RowsUpdated extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_UPDATED;
    }

    @Override
    public String description() {
      return "rows updated in place by the publish";
    }
  }

  public static final class RowsInserted extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_INSERTED;
    }

    @Override
    public String description() {
      return "rows inserted by the publish";
    }
  }
}
