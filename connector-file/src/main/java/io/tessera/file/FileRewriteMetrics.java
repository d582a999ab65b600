package io.tessera.file;

import io.tessera.common.metrics.TesseraMetrics;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomSumMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;

/**
 * What a DELETE, UPDATE or MERGE rewrote, shown in the SQL tab next to Spark's own row counts (rows
 * copied, updated, deleted, inserted): the files read and replaced, the files their partitions and
 * statistics let it skip, and the rows of the replaced files. Spark instantiates the metric classes
 * by reflection, so each has a public no-arg constructor.
 */
public final class FileRewriteMetrics {
  static final String FILES_REWRITTEN = "tesseraFilesRewritten";
  static final String FILES_SKIPPED = "tesseraFilesSkipped";
  static final String ROWS_REWRITTEN = "tesseraRowsInRewrittenFiles";

  private FileRewriteMetrics() {}

  static CustomMetric[] supported() {
    CustomMetric[] common = TesseraMetrics.supported();
    CustomMetric[] out = java.util.Arrays.copyOf(common, common.length + 3);
    out[common.length] = new FilesRewritten();
    out[common.length + 1] = new FilesSkipped();
    out[common.length + 2] = new RowsRewritten();
    return out;
  }

  static CustomTaskMetric[] driverMetrics(long commitMillis, FileRowLevelOperation.Read read) {
    long rows = read.files().stream().mapToLong(io.tessera.file.log.AddFile::rows).sum();
    return new CustomTaskMetric[] {
      TesseraMetrics.value(TesseraMetrics.COMMIT_DURATION_MS, Math.max(commitMillis, 0)),
      TesseraMetrics.value(FILES_REWRITTEN, read.files().size()),
      TesseraMetrics.value(FILES_SKIPPED, read.skipped()),
      TesseraMetrics.value(ROWS_REWRITTEN, rows)
    };
  }

  public static final class FilesRewritten extends CustomSumMetric {
    @Override
    public String name() {
      return FILES_REWRITTEN;
    }

    @Override
    public String description() {
      return "files read and replaced";
    }
  }

  public static final class FilesSkipped extends CustomSumMetric {
    @Override
    public String name() {
      return FILES_SKIPPED;
    }

    @Override
    public String description() {
      return "files skipped by partition and statistics";
    }
  }

  public static final class RowsRewritten extends CustomSumMetric {
    @Override
    public String name() {
      return ROWS_REWRITTEN;
    }

    @Override
    public String description() {
      return "rows in the replaced files";
    }
  }
}
