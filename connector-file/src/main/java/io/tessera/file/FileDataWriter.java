package io.tessera.file;

import io.tessera.common.metrics.TesseraMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.JobID;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.TaskAttemptID;
import org.apache.hadoop.mapreduce.TaskID;
import org.apache.hadoop.mapreduce.TaskType;
import org.apache.hadoop.mapreduce.task.TaskAttemptContextImpl;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.ProjectingInternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.execution.datasources.OutputWriter;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Executor side, one per task attempt: writes the rows with Spark's own format writer into files
 * under the write's staging folder, one open file at a time (rows arrive clustered and sorted by
 * partition). File names carry the task id, so retried and speculative attempts never collide.
 * Nothing written here is part of the table until the driver commits a log entry naming it.
 */
final class FileDataWriter implements DataWriter<InternalRow> {
  private final FileWriterFactory f;
  private final int partitionId;
  private final long taskId;
  private final TaskAttemptContext context;
  private final String extension;
  private final FileSystem fs;
  private final ProjectingInternalRow dataRow;
  private final List<StagedFile> done = new ArrayList<>();
  private final FileStats.Collector stats;
  private OutputWriter current;
  private String currentStaged;
  private String currentTablePath;
  private Map<String, String> currentPartition;

  /** The open file's partition values as Spark stores them (copied), compared per row. */
  private final Object[] currentRaw;

  private long currentRows;
  private long rows;
  private long bytes;
  private int fileCount;

  FileDataWriter(FileWriterFactory f, int partitionId, long taskId) {
    this.f = f;
    this.partitionId = partitionId;
    this.taskId = taskId;
    TaskAttemptID attempt =
        new TaskAttemptID(
            new TaskID(new JobID("tessera" + f.writeId, 0), TaskType.MAP, partitionId),
            (int) (taskId & Integer.MAX_VALUE));
    this.context = new TaskAttemptContextImpl(f.conf.value(), attempt);
    this.extension = f.outputFactory.getFileExtension(context);
    try {
      this.fs = new Path(f.stagingDir).getFileSystem(f.conf.value());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Object> ordinals = new ArrayList<>();
    for (int o : f.dataOrdinals) {
      ordinals.add(o);
    }
    this.currentRaw = new Object[f.partitionOrdinals.length];
    this.dataRow =
        new ProjectingInternalRow(
            f.dataSchema, CollectionConverters.asScala(ordinals).toIndexedSeq());
    this.stats =
        f.statistics
            ? new FileStats.Collector(
                f.dataSchema, java.util.stream.IntStream.range(0, f.dataSchema.size()).toArray())
            : null;
  }

  @Override
  public void write(InternalRow row) throws IOException {
    int n = f.partitionOrdinals.length;
    boolean samePartition = current != null;
    for (int i = 0; samePartition && i < n; i++) {
      samePartition =
          PartitionValues.sameValue(
              row, f.partitionOrdinals[i], f.partitionTypes[i], currentRaw[i]);
    }
    if (!samePartition || (f.maxRecordsPerFile > 0 && currentRows >= f.maxRecordsPerFile)) {
      closeCurrent();
      Map<String, String> partition = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        currentRaw[i] = PartitionValues.copyValue(row, f.partitionOrdinals[i], f.partitionTypes[i]);
        partition.put(
            f.partitionColumns.get(i),
            PartitionValues.text(row, f.partitionOrdinals[i], f.partitionTypes[i]));
      }
      open(PartitionPaths.of(f.partitionColumns, partition), partition);
    }
    dataRow.project(row);
    current.write(dataRow);
    if (stats != null) {
      stats.add(dataRow);
    }
    currentRows++;
    rows++;
  }

  private void open(String prefix, Map<String, String> partition) {
    String name =
        String.format(
            "part-%05d-%s-t%d-%03d%s", partitionId, f.writeId, taskId, fileCount++, extension);
    currentTablePath = prefix + name;
    currentStaged = f.stagingDir + "/" + currentTablePath;
    currentPartition = partition;
    currentRows = 0;
    if (stats != null) {
      stats.reset();
    }
    current = f.outputFactory.newInstance(currentStaged, f.dataSchema, context);
  }

  private void closeCurrent() throws IOException {
    if (current == null) {
      return;
    }
    current.close();
    current = null;
    long size = fs.getFileStatus(new Path(currentStaged)).getLen();
    bytes += size;
    done.add(
        new StagedFile(
            currentStaged,
            currentTablePath,
            currentPartition,
            size,
            currentRows,
            stats == null ? null : stats.result()));
  }

  @Override
  public FileCommitMessage commit() throws IOException {
    closeCurrent();
    return new FileCommitMessage(partitionId, taskId, List.copyOf(done));
  }

  @Override
  public void abort() throws IOException {
    try {
      if (current != null) {
        current.close();
        done.add(new StagedFile(currentStaged, currentTablePath, currentPartition, 0, 0, null));
        current = null;
      }
    } finally {
      for (StagedFile s : done) {
        fs.delete(new Path(s.stagedPath()), false);
      }
    }
  }

  @Override
  public void close() {
    // Files are closed by commit() or abort().
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return TesseraMetrics.taskMetrics(rows, bytes);
  }
}
