package io.tessera.file;

import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

/**
 * Shipped to executors (Java-serialized): Spark's own format writer factory, the Hadoop
 * configuration, the staging folder and the row layout. No SparkSession, no catalog.
 */
final class FileWriterFactory implements DataWriterFactory, StreamingDataWriterFactory {
  private static final long serialVersionUID = 1L;

  final OutputWriterFactory outputFactory;
  final SerializableConfiguration conf;
  final String stagingDir;
  final String writeId;
  final StructType dataSchema;
  final int[] dataOrdinals;
  final List<String> partitionColumns;
  final int[] partitionOrdinals;
  final DataType[] partitionTypes;
  final long maxRecordsPerFile;

  /**
   * Whether files get column statistics: only formats that store values exactly as Spark holds them
   * (Parquet, ORC). JSON and CSV writers may change them (timestamps cut to milliseconds, CSV
   * strings trimmed, custom formats), so their statistics could rule out a matching file.
   */
  final boolean statistics;

  FileWriterFactory(
      OutputWriterFactory outputFactory,
      SerializableConfiguration conf,
      String stagingDir,
      String writeId,
      StructType dataSchema,
      int[] dataOrdinals,
      List<String> partitionColumns,
      int[] partitionOrdinals,
      DataType[] partitionTypes,
      long maxRecordsPerFile,
      boolean statistics) {
    this.statistics = statistics;
    this.outputFactory = outputFactory;
    this.conf = conf;
    this.stagingDir = stagingDir;
    this.writeId = writeId;
    this.dataSchema = dataSchema;
    this.dataOrdinals = dataOrdinals;
    this.partitionColumns = List.copyOf(partitionColumns);
    this.partitionOrdinals = partitionOrdinals;
    this.partitionTypes = partitionTypes;
    this.maxRecordsPerFile = maxRecordsPerFile;
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new FileDataWriter(this, partitionId, taskId);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId, long epochId) {
    io.tessera.common.write.MicroBatchOnly.checkTask("tessera-file");
    return new FileDataWriter(this, partitionId, taskId);
  }
}
