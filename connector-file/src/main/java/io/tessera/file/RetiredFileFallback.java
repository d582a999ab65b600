package io.tessera.file;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.net.URI;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.paths.SparkPath;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.Statistics;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsReportStatistics;
import org.apache.spark.sql.execution.datasources.FilePartition;
import org.apache.spark.sql.execution.datasources.PartitionedFile;
import org.apache.spark.sql.internal.connector.SupportsMetadata;
import org.apache.spark.sql.internal.connector.SupportsPushDownCatalystFilters;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import scala.collection.immutable.Seq;

/**
 * Spark's own file scan of a snapshot, with one addition on the executors: a file that is no longer
 * in place when its task opens it is read from {@code _tessera/retired/} instead, where a commit
 * after the query's planning moved it (see {@link Relocation}). So a query keeps reading exactly
 * the version it planned, and time travel reads retired files, without any grace period that would
 * leave replaced rows visible to plain readers. Everything else (column pruning, filter push-down,
 * statistics, explain) is the wrapped Spark scan's.
 */
final class RetiredFileFallback {
  private RetiredFileFallback() {}

  /** The metadata column holding each row's file (its URI), for row-level operations. */
  static final String FILE_COLUMN = "_file";

  /** Wraps a Spark {@code FileScanBuilder} of the table at {@code rootUri}. */
  static Builder wrap(
      ScanBuilder inner,
      String rootUri,
      Map<String, String> options,
      StructType tableSchema,
      java.util.List<String> partitionColumns) {
    Configuration conf =
        ((org.apache.spark.sql.classic.SparkSession) SparkSession.active())
            .sessionState()
            .newHadoopConfWithOptions(
                scala.collection.immutable.Map$.MODULE$.from(
                    scala.jdk.javaapi.CollectionConverters.asScala(options)));
    return new Builder(inner, rootUri, conf, tableSchema, partitionColumns);
  }

  static final class Builder
      implements SupportsPushDownRequiredColumns, SupportsPushDownCatalystFilters {
    private final ScanBuilder inner;
    private final String rootUri;
    private final Configuration conf;
    private boolean withFile;
    private final StructType tableSchema;
    private final java.util.List<String> partitionColumns;

    /** Adds the {@code _file} column to every row read. */
    Builder withFileColumn() {
      withFile = true;
      return this;
    }

    Builder(
        ScanBuilder inner,
        String rootUri,
        Configuration conf,
        StructType tableSchema,
        java.util.List<String> partitionColumns) {
      this.inner = inner;
      this.rootUri = rootUri;
      this.conf = conf;
      this.tableSchema = tableSchema;
      this.partitionColumns = partitionColumns;
    }

    @Override
    public void pruneColumns(StructType requiredSchema) {
      // A data column of that name wins: then there is no metadata column to strip.
      boolean metadataColumn = FileWriteBuilder.indexOf(tableSchema, FILE_COLUMN) < 0;
      StructType data = new StructType();
      for (org.apache.spark.sql.types.StructField f : requiredSchema.fields()) {
        if (metadataColumn && f.name().equals(FILE_COLUMN)) {
          withFile = true;
        } else {
          data = data.add(f);
        }
      }
      ((SupportsPushDownRequiredColumns) inner).pruneColumns(data);
    }

    @Override
    public Seq<Expression> pushFilters(Seq<Expression> filters) {
      return ((SupportsPushDownCatalystFilters) inner).pushFilters(filters);
    }

    @Override
    public Predicate[] pushedFilters() {
      return ((SupportsPushDownCatalystFilters) inner).pushedFilters();
    }

    @Override
    public Scan build() {
      return new WrappedScan(inner.build(), rootUri, conf, withFile, tableSchema, partitionColumns);
    }
  }

  /**
   * The wrapped scan. It also takes run-time filters on partition columns (Spark's dynamic
   * partition pruning: a join on a partition column reads only the partitions whose values the
   * other side holds).
   */
  static final class WrappedScan
      implements Scan,
          Batch,
          SupportsReportStatistics,
          SupportsMetadata,
          org.apache.spark.sql.connector.read.SupportsRuntimeV2Filtering {
    private final Scan scan;
    private final String rootUri;
    private final Configuration conf;
    private final boolean withFile;
    private final StructType tableSchema;
    private final java.util.List<String> partitionColumns;
    private final java.util.List<Predicate> runtime = new java.util.ArrayList<>();

    WrappedScan(
        Scan scan,
        String rootUri,
        Configuration conf,
        boolean withFile,
        StructType tableSchema,
        java.util.List<String> partitionColumns) {
      this.scan = scan;
      this.rootUri = rootUri;
      this.conf = conf;
      this.withFile = withFile;
      this.tableSchema = tableSchema;
      this.partitionColumns = partitionColumns;
    }

    @Override
    public org.apache.spark.sql.connector.expressions.NamedReference[] filterAttributes() {
      // Only columns the scan returns: Spark resolves them against its output.
      java.util.Set<String> read = java.util.Set.of(scan.readSchema().fieldNames());
      return partitionColumns.stream()
          .filter(read::contains)
          .map(org.apache.spark.sql.connector.expressions.Expressions::column)
          .toArray(org.apache.spark.sql.connector.expressions.NamedReference[]::new);
    }

    /**
     * Keeps the filters it can evaluate on partition values exactly (as an overwrite's condition
     * is); the others are ignored, which only reads more.
     */
    @Override
    public void filter(Predicate[] predicates) {
      // Only partition columns this scan reads carry their values in the files it plans.
      java.util.List<String> read =
          java.util.List.of(
              ((org.apache.spark.sql.execution.datasources.v2.FileScan) scan)
                  .readPartitionSchema()
                  .fieldNames());
      for (Predicate p : predicates) {
        if (PartitionValues.unsupportedReason(new Predicate[] {p}, read) == null) {
          runtime.add(p);
        }
      }
    }

    @Override
    public StructType readSchema() {
      return withFile
          ? scan.readSchema()
              .add(FILE_COLUMN, org.apache.spark.sql.types.DataTypes.StringType, false)
          : scan.readSchema();
    }

    @Override
    public String description() {
      return scan.description();
    }

    @Override
    public Batch toBatch() {
      return this;
    }

    @Override
    public CustomMetric[] supportedCustomMetrics() {
      return scan.supportedCustomMetrics();
    }

    @Override
    public CustomTaskMetric[] reportDriverMetrics() {
      return scan.reportDriverMetrics();
    }

    @Override
    public ColumnarSupportMode columnarSupportMode() {
      return scan.columnarSupportMode();
    }

    @Override
    public Statistics estimateStatistics() {
      return ((SupportsReportStatistics) scan).estimateStatistics();
    }

    @Override
    public scala.collection.immutable.Map<String, String> getMetaData() {
      return scan instanceof SupportsMetadata m
          ? m.getMetaData()
          : scala.collection.immutable.Map$.MODULE$.empty();
    }

    @Override
    public InputPartition[] planInputPartitions() {
      InputPartition[] all = scan.toBatch().planInputPartitions();
      if (runtime.isEmpty()) {
        return all;
      }
      Predicate[] filters = runtime.toArray(Predicate[]::new);
      // The partition values the files carry: only the partition columns the query reads, in
      // that order (Spark's FileScan prunes them).
      StructType partitionSchema =
          ((org.apache.spark.sql.execution.datasources.v2.FileScan) scan).readPartitionSchema();
      java.util.List<InputPartition> out = new java.util.ArrayList<>();
      for (InputPartition p : all) {
        PartitionedFile[] kept =
            java.util.Arrays.stream(((FilePartition) p).files())
                .filter(
                    f -> PartitionValues.matches(filters, values(f, partitionSchema), tableSchema))
                .toArray(PartitionedFile[]::new);
        if (kept.length > 0) {
          out.add(FilePartition.apply(out.size(), kept));
        }
      }
      return out.toArray(InputPartition[]::new);
    }

    /** A file's partition values as folder text, by column (the columns read only). */
    private static Map<String, String> values(PartitionedFile f, StructType partitionSchema) {
      Map<String, String> out = new java.util.HashMap<>();
      InternalRow row = f.partitionValues();
      for (int i = 0; i < partitionSchema.size(); i++) {
        org.apache.spark.sql.types.StructField field = partitionSchema.fields()[i];
        out.put(field.name(), PartitionValues.text(row, i, field.dataType()));
      }
      return out;
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      org.apache.spark.broadcast.Broadcast<ConfHolder> broadcast =
          org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                  SparkSession.active().sparkContext())
              .broadcast(new ConfHolder(conf));
      return new Factory(scan.toBatch().createReaderFactory(), rootUri, broadcast, withFile);
    }

    /** Two scans of the same files are the same (lets Spark reuse exchanges), as Spark's. */
    @Override
    public boolean equals(Object o) {
      return o instanceof WrappedScan w && w.scan.equals(scan) && w.withFile == withFile;
    }

    @Override
    public int hashCode() {
      return scan.hashCode();
    }

    @Override
    public String toString() {
      return scan.toString();
    }
  }

  /** A Hadoop configuration that travels to the executors. */
  static final class ConfHolder implements Serializable {
    private static final long serialVersionUID = 1L;
    private transient Configuration conf;

    ConfHolder(Configuration conf) {
      this.conf = conf;
    }

    Configuration get() {
      return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
      out.defaultWriteObject();
      conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      conf = new Configuration(false);
      conf.readFields(in);
    }
  }

  private static final class Factory implements PartitionReaderFactory {
    private static final long serialVersionUID = 1L;
    private final PartitionReaderFactory inner;
    private final String rootUri;
    private final org.apache.spark.broadcast.Broadcast<ConfHolder> conf;
    private final boolean withFile;

    Factory(
        PartitionReaderFactory inner,
        String rootUri,
        org.apache.spark.broadcast.Broadcast<ConfHolder> conf,
        boolean withFile) {
      this.inner = inner;
      this.rootUri = rootUri;
      this.conf = conf;
      this.withFile = withFile;
    }

    @Override
    public boolean supportColumnarReads(InputPartition partition) {
      return inner.supportColumnarReads(partition);
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      FilePartition p = (FilePartition) partition;
      Chain<InternalRow> chain =
          new Chain<>(this, p, f -> inner.createReader(FilePartition.apply(p.index(), one(f))));
      if (!withFile) {
        return chain;
      }
      org.apache.spark.sql.catalyst.expressions.JoinedRow joined =
          new org.apache.spark.sql.catalyst.expressions.JoinedRow();
      org.apache.spark.sql.catalyst.expressions.GenericInternalRow file =
          new org.apache.spark.sql.catalyst.expressions.GenericInternalRow(1);
      return chain.mapped(
          (row, f) -> {
            file.update(0, f);
            return joined.apply(row, file);
          });
    }

    @Override
    public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
      FilePartition p = (FilePartition) partition;
      Chain<ColumnarBatch> chain =
          new Chain<>(
              this, p, f -> inner.createColumnarReader(FilePartition.apply(p.index(), one(f))));
      if (!withFile) {
        return chain;
      }
      return chain.mapped(
          (batch, f) -> {
            int n = batch.numCols();
            org.apache.spark.sql.vectorized.ColumnVector[] cols =
                new org.apache.spark.sql.vectorized.ColumnVector[n + 1];
            for (int i = 0; i < n; i++) {
              cols[i] = batch.column(i);
            }
            org.apache.spark.sql.execution.vectorized.ConstantColumnVector c =
                new org.apache.spark.sql.execution.vectorized.ConstantColumnVector(
                    batch.numRows(), org.apache.spark.sql.types.DataTypes.StringType);
            c.setUtf8String(f);
            cols[n] = c;
            return new ColumnarBatch(cols, batch.numRows());
          });
    }

    private static PartitionedFile[] one(PartitionedFile f) {
      return new PartitionedFile[] {f};
    }

    /** The retired location of {@code f}, or null when it is not a file of this table. */
    PartitionedFile retired(PartitionedFile f) {
      String uri = f.filePath().urlEncoded();
      String prefix = rootUri + "/";
      if (!uri.startsWith(prefix)) {
        return null;
      }
      String moved = prefix + Relocation.RETIRED + uri.substring(prefix.length());
      return f.copy(
          f.partitionValues(),
          SparkPath.fromUri(URI.create(moved)),
          f.start(),
          f.length(),
          f.locations(),
          f.modificationTime(),
          f.fileSize(),
          f.otherConstantMetadataColumnValues());
    }

    boolean exists(PartitionedFile f) throws IOException {
      Path p = f.toPath();
      return p.getFileSystem(conf.value().get()).exists(p);
    }
  }

  interface Opener<T> {
    PartitionReader<T> open(PartitionedFile f);
  }

  /**
   * Reads a partition's files one after the other, each through Spark's own reader, opening each
   * file where it is when its turn comes: in place, else retired. A file that moves between that
   * check and its opening is retried once from retired.
   */
  private static final class Chain<T> implements PartitionReader<T> {
    private final Factory factory;
    private final PartitionedFile[] files;
    private final Opener<T> opener;
    private int next;
    private PartitionReader<T> current;
    private PartitionedFile currentFile;

    /** The {@code _file} value of the file being read: where the log has it, even if retired. */
    private org.apache.spark.unsafe.types.UTF8String currentUri;

    private boolean started;
    private boolean retried;

    Chain(Factory factory, FilePartition partition, Opener<T> opener) {
      this.factory = factory;
      this.files = partition.files();
      this.opener = opener;
    }

    @Override
    public boolean next() throws IOException {
      while (true) {
        if (current == null) {
          if (next >= files.length) {
            return false;
          }
          PartitionedFile f = files[next++];
          currentUri = org.apache.spark.unsafe.types.UTF8String.fromString(f.urlEncodedPath());
          PartitionedFile moved = factory.retired(f);
          currentFile = moved != null && !factory.exists(f) && factory.exists(moved) ? moved : f;
          current = opener.open(currentFile);
          started = false;
          retried = currentFile != f;
        }
        boolean has;
        try {
          has = current.next();
        } catch (IOException | RuntimeException e) {
          PartitionedFile moved = retried ? null : factory.retired(currentFile);
          if (!started && moved != null && !factory.exists(currentFile) && factory.exists(moved)) {
            current.close();
            currentFile = moved;
            current = opener.open(moved);
            retried = true;
            continue;
          }
          throw e;
        }
        started = true;
        if (has) {
          return true;
        }
        current.close();
        current = null;
      }
    }

    @Override
    public T get() {
      return current.get();
    }

    /** This chain with {@code f} applied to each value and its file's {@code _file} value. */
    PartitionReader<T> mapped(
        java.util.function.BiFunction<T, org.apache.spark.unsafe.types.UTF8String, T> f) {
      Chain<T> self = this;
      return new PartitionReader<T>() {
        @Override
        public boolean next() throws IOException {
          return self.next();
        }

        @Override
        public T get() {
          return f.apply(self.get(), self.currentUri);
        }

        @Override
        public CustomTaskMetric[] currentMetricsValues() {
          return self.currentMetricsValues();
        }

        @Override
        public void close() throws IOException {
          self.close();
        }
      };
    }

    @Override
    public CustomTaskMetric[] currentMetricsValues() {
      return current == null ? new CustomTaskMetric[0] : current.currentMetricsValues();
    }

    @Override
    public void close() throws IOException {
      if (current != null) {
        current.close();
        current = null;
      }
    }
  }
}
