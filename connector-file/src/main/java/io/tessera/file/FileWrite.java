package io.tessera.file;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import io.tessera.file.log.TableMetadata;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.mapreduce.Job;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.distributions.Distribution;
import org.apache.spark.sql.connector.distributions.Distributions;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.SortDirection;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.RequiresDistributionAndOrdering;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;
import org.apache.spark.sql.execution.datasources.OutputWriterFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One logical write into a {@link FileTable}. Asks Spark to cluster rows by the partition columns
 * and sort them within each task, so each task writes one file per partition it sees.
 */
public class FileWrite implements Write, RequiresDistributionAndOrdering {
  private final FileTable table;
  private final LogicalWriteInfo info;
  private final ParsedOptions options;
  private final TableMetadata metadata;
  private final TableMetadata schemaChange;
  private final WriteMode mode;
  private final FileRowLevelOperation rewrite;

  /** The version this write's decisions are based on; later commits are checked for conflicts. */
  private final long readVersion;

  private final java.util.concurrent.atomic.AtomicLong commitMillis =
      new java.util.concurrent.atomic.AtomicLong(-1);

  /** The table's metadata as this write planned it (for the conflict check). */
  private final TableMetadata planned;

  /**
   * @param planned the table's metadata when the write was planned
   * @param evolved the metadata with columns added by {@code mergeSchema}, or null
   */
  FileWrite(
      FileTable table,
      LogicalWriteInfo info,
      ParsedOptions options,
      TableMetadata planned,
      TableMetadata evolved,
      WriteMode mode,
      FileRowLevelOperation rewrite) {
    this.table = table;
    this.rewrite = rewrite;
    this.info = info;
    this.options = options;
    this.planned = planned;
    this.metadata = evolved == null ? planned : evolved;
    this.schemaChange = evolved;
    this.mode = mode;
    long base =
        rewrite != null && rewrite.read() != null
            ? rewrite.read().snapshot().version()
            : table.conflictBaseVersion();
    this.readVersion = base >= 0 ? base : table.log().snapshot().version();
  }

  @Override
  public String description() {
    return "tessera-file["
        + table.name()
        + ", "
        + metadata.format()
        + ", "
        + (rewrite != null
            ? rewrite.operationName() + " (copy-on-write)"
            : "mode=" + mode.describe())
        + (metadata.partitionColumns().isEmpty()
            ? ""
            : ", partitioned by " + metadata.partitionColumns())
        + "]";
  }

  private Expression[] partitionRefs() {
    return metadata.partitionColumns().stream().map(Expressions::column).toArray(Expression[]::new);
  }

  @Override
  public Distribution requiredDistribution() {
    boolean cluster =
        options.get(FileWriteOptions.DISTRIBUTION) == FileWriteOptions.Distribution.CLUSTER;
    return metadata.partitionColumns().isEmpty() || !cluster
        ? Distributions.unspecified()
        : Distributions.clustered(partitionRefs());
  }

  @Override
  public SortOrder[] requiredOrdering() {
    Expression[] refs = partitionRefs();
    SortOrder[] out = new SortOrder[refs.length];
    for (int i = 0; i < refs.length; i++) {
      out[i] = Expressions.sort(refs[i], SortDirection.ASCENDING);
    }
    return out;
  }

  /** Prepares Spark's format writer on the driver and the committer for one (micro-)batch. */
  Prepared prepare(boolean streaming) {
    SparkSession spark = SparkSession.active();
    // Files always hold the table's columns in the table's order and types; the input (already
    // checked by FileWriteBuilder.conform) may list them in another order.
    StructType input = info.schema();
    StructType schema = metadata.schema();
    List<String> partitionColumns = metadata.partitionColumns();
    StructType dataSchema = FileWriteBuilder.dataSchema(schema, partitionColumns);
    Map<String, String> formatOptions = new HashMap<>();
    String compression = options.get(FileWriteOptions.COMPRESSION);
    if (compression != null) {
      formatOptions.put("compression", compression);
    }
    scala.collection.immutable.Map<String, String> scalaOptions =
        scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(formatOptions));
    Configuration hadoopConf = spark.sessionState().newHadoopConfWithOptions(scalaOptions);
    Job job;
    try {
      job = Job.getInstance(hadoopConf);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    OutputWriterFactory outputFactory =
        FileFormats.of(metadata.format()).prepareWrite(spark, job, scalaOptions, dataSchema);
    String writeId = UUID.randomUUID().toString().replace("-", "");
    Path staging = new Path(new Path(new Path(table.log().root(), "_tessera"), "staging"), writeId);
    int[] dataOrdinals =
        java.util.Arrays.stream(dataSchema.fieldNames())
            .mapToInt(n -> FileWriteBuilder.indexOf(input, n))
            .toArray();
    int[] partitionOrdinals =
        partitionColumns.stream().mapToInt(c -> FileWriteBuilder.indexOf(input, c)).toArray();
    DataType[] partitionTypes =
        partitionColumns.stream().map(c -> schema.apply(c).dataType()).toArray(DataType[]::new);
    FileWriterFactory factory =
        new FileWriterFactory(
            outputFactory,
            new SerializableConfiguration(job.getConfiguration()),
            staging.toString(),
            writeId,
            dataSchema,
            dataOrdinals,
            partitionColumns,
            partitionOrdinals,
            partitionTypes,
            options.get(FileWriteOptions.MAX_RECORDS_PER_FILE),
            metadata.format().equals("parquet") || metadata.format().equals("orc"));
    FileCommitter committer =
        new FileCommitter(
            table.log(),
            table.name(),
            mode,
            // A stream's table was loaded when it started: each epoch checks from the latest.
            streaming ? table.log().snapshot().version() : readVersion,
            staging,
            options.get(FileWriteOptions.CHECKPOINT_INTERVAL),
            table.staged() == null
                ? (schemaChange == null
                    ? null
                    : FileCommitter.Replacement.schemaChange(schemaChange))
                : table.staged().replacement(),
            planned,
            rewrite);
    if (mode instanceof WriteMode.OverwriteByFilter o
        && PartitionValues.unsupportedReason(
                o.predicates()
                    .toArray(org.apache.spark.sql.connector.expressions.filter.Predicate[]::new),
                partitionColumns)
            != null) {
      committer.rewritingMatches(
          (base, files) ->
              ConditionalOverwrite.keepNonMatching(
                  table, base, files, o.predicates(), factory, input));
    }
    return new Prepared(factory, committer);
  }

  record Prepared(FileWriterFactory factory, FileCommitter committer) {}

  @Override
  public BatchWrite toBatch() {
    return new FileBatchWrite(() -> prepare(false), commitMillis, table.staged());
  }

  @Override
  public StreamingWrite toStreaming() {
    return new FileStreamingWrite(info.queryId(), () -> prepare(true));
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return rewrite != null ? FileRewriteMetrics.supported() : TesseraMetrics.supported();
  }

  @Override
  public org.apache.spark.sql.connector.metric.CustomTaskMetric[] reportDriverMetrics() {
    long ms = commitMillis.get();
    if (rewrite != null && rewrite.read() != null) {
      return FileRewriteMetrics.driverMetrics(ms, rewrite.read());
    }
    return ms < 0
        ? new org.apache.spark.sql.connector.metric.CustomTaskMetric[0]
        : TesseraMetrics.driverMetrics(ms);
  }

  @Override
  public String toString() {
    return description();
  }
}
