package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import io.tessera.file.log.TableMetadata;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.LocalScan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.execution.datasources.v2.csv.CSVTable;
import org.apache.spark.sql.execution.datasources.v2.json.JsonTable;
import org.apache.spark.sql.execution.datasources.v2.orc.OrcTable;
import org.apache.spark.sql.execution.datasources.v2.parquet.ParquetTable;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A folder of data files plus its commit log. Reading returns exactly the files of the latest
 * committed log entry, through Spark's own file scan for the format; writing goes through {@link
 * FileWriteBuilder}. A provider table whose folder has no log yet is "new": it accepts the first
 * write's schema and creates the log.
 */
public class FileTable
    implements SupportsRead,
        SupportsWrite,
        org.apache.spark.sql.connector.catalog.SupportsRowLevelOperations,
        org.apache.spark.sql.connector.catalog.SupportsDeleteV2,
        org.apache.spark.sql.connector.catalog.SupportsMetadataColumns {
  private static final Set<TableCapability> CAPABILITIES =
      Set.of(
          TableCapability.BATCH_READ,
          TableCapability.BATCH_WRITE,
          TableCapability.STREAMING_WRITE,
          TableCapability.TRUNCATE,
          TableCapability.OVERWRITE_BY_FILTER,
          TableCapability.OVERWRITE_DYNAMIC);

  private final String name;
  private final TableLog log;
  private final TableMetadata metadata;
  private final Map<String, String> options;
  private final FileStaging.Pending staged;
  private Snapshot loaded;
  private boolean timeTravel;

  /**
   * @param metadata the table's metadata, or null for a provider path with no table yet
   */
  FileTable(String name, TableLog log, TableMetadata metadata, Map<String, String> options) {
    this(name, log, metadata, options, null);
  }

  /**
   * @param staged for a staged CTAS / RTAS: where the write leaves its commit for publication
   */
  FileTable(
      String name,
      TableLog log,
      TableMetadata metadata,
      Map<String, String> options,
      FileStaging.Pending staged) {
    this.name = name;
    this.log = log;
    this.metadata = metadata;
    this.options = options;
    this.staged = staged;
  }

  /** Remembers the snapshot the table was loaded from (see {@link #newScanBuilder}). */
  FileTable loadedFrom(Snapshot snapshot) {
    this.loaded = snapshot;
    return this;
  }

  private static final java.util.concurrent.atomic.AtomicReference<Runnable> AFTER_SCAN_PLANNED =
      new java.util.concurrent.atomic.AtomicReference<>();

  /**
   * For race tests only: runs {@code r} right after the next scan of any table chose its version.
   */
  public static void runAfterNextScanPlannedForTests(Runnable r) {
    AFTER_SCAN_PLANNED.set(r);
  }

  /** The snapshot scanned per query execution (the few most recent), so a query reads one. */
  private final Map<String, Snapshot> scannedIn =
      java.util.Collections.synchronizedMap(
          new java.util.LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Snapshot> eldest) {
              return size() > 8;
            }
          });

  private final java.util.concurrent.atomic.AtomicLong minScanned =
      new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);

  private void noteScanned(long version) {
    minScanned.accumulateAndGet(version, Math::min);
  }

  /**
   * The version a batch write of this table must check conflicts from: the oldest version this
   * table instance was loaded at or served to a scan (a query that reads and overwrites the table
   * uses one instance), so a commit after what the query read is never silently replaced. -1 when
   * the table was not loaded from a snapshot.
   */
  long conflictBaseVersion() {
    long v = loaded == null ? Long.MAX_VALUE : loaded.version();
    v = Math.min(v, minScanned.get());
    return v == Long.MAX_VALUE ? -1 : v;
  }

  /**
   * Whether writes may add columns: the provider option {@code mergeSchema=true}, or the table
   * property {@code mergeSchema=true} for catalog writes (Spark then leaves column checks, and
   * casts, to the connector: the data's types must match the table's).
   */
  boolean mergesSchema() {
    java.util.function.Predicate<Map.Entry<String, String>> on =
        e ->
            e.getKey().equalsIgnoreCase(FileWriteOptions.MERGE_SCHEMA.name())
                && e.getValue().trim().equalsIgnoreCase("true");
    return options.entrySet().stream().anyMatch(on)
        || (metadata != null && metadata.properties().entrySet().stream().anyMatch(on));
  }

  /** Whether {@code after} reads the files of {@code before} the same way (columns only added). */
  static boolean sameLayout(TableMetadata before, TableMetadata after) {
    if (!before.format().equals(after.format())
        || !before.partitionColumns().equals(after.partitionColumns())) {
      return false;
    }
    org.apache.spark.sql.types.StructField[] a = before.schema().fields();
    org.apache.spark.sql.types.StructField[] b = after.schema().fields();
    if (b.length < a.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (!a[i].name().equals(b[i].name()) || !a[i].dataType().sameType(b[i].dataType())) {
        return false;
      }
    }
    return true;
  }

  /** This table as of an older version (time travel): read-only, always that version. */
  FileTable travelledTo(Snapshot snapshot) {
    this.loaded = snapshot;
    this.timeTravel = true;
    return this;
  }

  /** The version this table was loaded at, or -1. */
  long loadedVersion() {
    return loaded == null ? -1 : loaded.version();
  }

  /** The staged CTAS / RTAS this table belongs to, or null for an ordinary table. */
  FileStaging.Pending staged() {
    return staged;
  }

  @Override
  public String name() {
    return name;
  }

  TableLog log() {
    return log;
  }

  TableMetadata metadata() {
    return metadata;
  }

  Map<String, String> options() {
    return options;
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return metadata == null ? new StructType() : metadata.schema();
  }

  @Override
  public Column[] columns() {
    return org.apache.spark.sql.connector.catalog.CatalogV2Util.structTypeToV2Columns(
        schema(), false);
  }

  @Override
  public Transform[] partitioning() {
    return metadata == null
        ? new Transform[0]
        : metadata.partitionColumns().stream().map(Expressions::identity).toArray(Transform[]::new);
  }

  @Override
  public Map<String, String> properties() {
    Map<String, String> p = new HashMap<>();
    p.put("provider", "tessera-file");
    p.put("location", log.root().toString());
    if (metadata != null) {
      p.putAll(metadata.properties());
      p.put("format", metadata.format());
    }
    return p;
  }

  @Override
  public Set<TableCapability> capabilities() {
    if (timeTravel) {
      return Set.of(TableCapability.BATCH_READ);
    }
    if (staged != null) {
      return Set.of(
          TableCapability.BATCH_WRITE,
          TableCapability.TRUNCATE,
          TableCapability.OVERWRITE_BY_FILTER);
    }
    boolean mergeSchema = mergesSchema();
    if (metadata == null || mergeSchema) {
      // A new table takes the first write's schema; mergeSchema adds the data's new columns.
      // FileWriteBuilder.conform checks every column instead of Spark.
      Set<TableCapability> s = new java.util.HashSet<>(CAPABILITIES);
      s.add(TableCapability.ACCEPT_ANY_SCHEMA);
      return s;
    }
    return CAPABILITIES;
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new FileWriteBuilder(this, info);
  }

  /**
   * {@code DELETE}, {@code UPDATE} and {@code MERGE INTO}, copy-on-write (see {@link
   * FileRowLevelOperation}).
   */
  @Override
  public org.apache.spark.sql.connector.write.RowLevelOperationBuilder newRowLevelOperationBuilder(
      org.apache.spark.sql.connector.write.RowLevelOperationInfo info) {
    requireWritable(info.command().name());
    return () -> new FileRowLevelOperation(this, info.command());
  }

  private void requireWritable(String what) {
    if (timeTravel || metadata == null || staged != null) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          what
              + " needs the current version of an existing table; "
              + name
              + (timeTravel ? " is read as of an older version (time travel)" : " is not one"));
    }
  }

  /**
   * Whether rows carry the {@code _file} metadata column (the URI of the file holding the row): not
   * when a data column has that name.
   */
  boolean hasFileColumn() {
    return metadata != null
        && FileWriteBuilder.indexOf(metadata.schema(), RetiredFileFallback.FILE_COLUMN) < 0;
  }

  @Override
  public org.apache.spark.sql.connector.catalog.MetadataColumn[] metadataColumns() {
    if (!hasFileColumn()) {
      return new org.apache.spark.sql.connector.catalog.MetadataColumn[0];
    }
    return new org.apache.spark.sql.connector.catalog.MetadataColumn[] {
      new org.apache.spark.sql.connector.catalog.MetadataColumn() {
        @Override
        public String name() {
          return RetiredFileFallback.FILE_COLUMN;
        }

        @Override
        public org.apache.spark.sql.types.DataType dataType() {
          return org.apache.spark.sql.types.DataTypes.StringType;
        }

        @Override
        public boolean isNullable() {
          return false;
        }

        @Override
        public String comment() {
          return "the URI of the data file holding the row";
        }
      }
    };
  }

  /**
   * A {@code DELETE} whose condition uses only partition columns removes whole partitions from the
   * log without reading a file. Any other condition goes through the copy-on-write rewrite.
   */
  @Override
  public boolean canDeleteWhere(org.apache.spark.sql.connector.expressions.filter.Predicate[] p) {
    return !timeTravel
        && metadata != null
        && staged == null
        && PartitionValues.unsupportedReason(p, metadata.partitionColumns()) == null;
  }

  @Override
  public void deleteWhere(org.apache.spark.sql.connector.expressions.filter.Predicate[] p) {
    requireWritable("DELETE");
    new FileCommitter(
            log,
            name,
            io.tessera.common.write.WriteMode.OverwriteByFilter.of(p),
            log.snapshot().version(),
            new Path(
                new Path(new Path(log.root(), TableLog.META_DIR), "staging"),
                java.util.UUID.randomUUID().toString().replace("-", "")),
            FileWriteOptions.OPTIONS.parse(options).get(FileWriteOptions.CHECKPOINT_INTERVAL),
            null,
            metadata,
            null)
        .named(
            "delete where "
                + java.util.Arrays.stream(p)
                    .map(Object::toString)
                    .collect(java.util.stream.Collectors.joining(" AND ")))
        .commit(new org.apache.spark.sql.connector.write.WriterCommitMessage[0], null);
  }

  /** Reads the committed files only, with Spark's own scan for the format. */
  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    ScanSnapshot s = scanSnapshot();
    return scanBuilder(s.snapshot(), s.schema(), s.snapshot().files(), options);
  }

  /** The version a scan reads, and the schema Spark planned it with. */
  record ScanSnapshot(Snapshot snapshot, StructType schema) {}

  /**
   * The version a scan in the running query reads: the one every other scan of this table in the
   * same query read, else the snapshot the table was loaded at while it is the latest, else the
   * latest. Completes that version's file moves first.
   */
  ScanSnapshot scanSnapshot() {
    // The snapshot loaded with the table serves the scan while it is still the latest (one check
    // for a newer entry), so a query reads the log once; otherwise the latest is read.
    String execution =
        SparkSession.active().sparkContext().getLocalProperty("spark.sql.execution.id");
    Snapshot pinned = execution == null || timeTravel ? null : scannedIn.get(execution);
    Snapshot snap =
        pinned != null
            ? pinned
            : loaded != null && (timeTravel || !log.hasVersion(loaded.version() + 1))
                ? loaded
                : log.snapshot();
    if (snap.metadata() == null) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          "There is no tessera-file table at '"
              + log.root()
              + "' (no _tessera/log); check option 'path', or create it by writing to it");
    }
    // A commit whose entry exists but whose file moves are not done yet (in flight, or its
    // driver died) is completed first: the files of the version read must be in place. A reader
    // that may not write to the table (read-only access) reads on; only files of such a pending
    // commit could then be missing.
    if (!timeTravel || !log.hasVersion(snap.version() + 1)) {
      try {
        Relocation.rollForward(log, snap.version());
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(FileTable.class)
            .warn(
                "tessera-file: could not complete the file moves of the latest commit to {} ({});"
                    + " reading on",
                name,
                e.toString());
      }
    }
    StructType planned = null;
    if (timeTravel) {
      snap = loaded;
      requireFiles(snap);
    } else if (metadata != null && !snap.metadata().equals(metadata)) {
      if (sameLayout(metadata, snap.metadata())) {
        // Only properties changed or columns were added (ALTER TABLE, mergeSchema) since this
        // query resolved the table: read the latest files with the schema Spark planned with.
        planned = metadata.schema();
      } else if (loaded != null) {
        // Replaced (REPLACE TABLE AS SELECT) after this query resolved the table: read the
        // version it resolved, whose schema Spark planned with (a replace keeps the old files
        // for cleanup).
        snap = loaded;
      }
    }
    noteScanned(snap.version());
    if (execution != null && !timeTravel) {
      // Every other scan of this table in the same query (a self-join, a subquery) reads the
      // same version.
      scannedIn.putIfAbsent(execution, snap);
    }
    Runnable hook = AFTER_SCAN_PLANNED.getAndSet(null);
    if (hook != null) {
      hook.run();
    }
    return new ScanSnapshot(snap, planned != null ? planned : snap.metadata().schema());
  }

  /** Spark's scan for the format over {@code files} of {@code snap}, read with {@code schema}. */
  ScanBuilder scanBuilder(
      Snapshot snap,
      StructType schema,
      java.util.Collection<AddFile> files,
      CaseInsensitiveStringMap options) {
    if (files.isEmpty()) {
      return () ->
          new LocalScan() {
            @Override
            public InternalRow[] rows() {
              return new InternalRow[0];
            }

            @Override
            public StructType readSchema() {
              return schema;
            }
          };
    }
    Map<String, String> readOptions = new HashMap<>(options.asCaseSensitiveMap());
    // A committed file is never legitimately missing (one a later commit moved is read from
    // _tessera/retired/; one cleanup deleted fails the query clearly): never skip one, or the
    // rest of one after a read error, silently, whatever spark.sql.files.ignoreMissingFiles and
    // ignoreCorruptFiles say.
    readOptions.put("ignoreMissingFiles", "false");
    readOptions.put("ignoreCorruptFiles", "false");
    CaseInsensitiveStringMap opts = new CaseInsensitiveStringMap(readOptions);
    SparkSession spark = SparkSession.active();
    scala.collection.immutable.Seq<String> seq =
        CollectionConverters.asScala(List.of(log.root().toString())).toList();
    Option<StructType> userSchema = Option.apply(schema);
    StructType partitionSchema =
        new StructType(
            snap.metadata().partitionColumns().stream()
                .map(c -> schema.apply(c))
                .toArray(org.apache.spark.sql.types.StructField[]::new));
    org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex index =
        new LogFileIndex(spark, log, snap, files, partitionSchema, readOptions);
    org.apache.spark.sql.execution.datasources.v2.FileTable table =
        switch (snap.metadata().format()) {
          case "orc" ->
              new OrcTable(name, spark, opts, seq, userSchema, FileFormats.of("orc").getClass()) {
                @Override
                public org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex
                    fileIndex() {
                  return index;
                }
              };
          case "json" ->
              new JsonTable(name, spark, opts, seq, userSchema, FileFormats.of("json").getClass()) {
                @Override
                public org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex
                    fileIndex() {
                  return index;
                }
              };
          case "csv" ->
              new CSVTable(name, spark, opts, seq, userSchema, FileFormats.of("csv").getClass()) {
                @Override
                public org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex
                    fileIndex() {
                  return index;
                }
              };
          default ->
              new ParquetTable(
                  name, spark, opts, seq, userSchema, FileFormats.of("parquet").getClass()) {
                @Override
                public org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex
                    fileIndex() {
                  return index;
                }
              };
        };
    return RetiredFileFallback.wrap(
        table.newScanBuilder(opts),
        log.root().toUri().toString(),
        readOptions,
        schema,
        snap.metadata().partitionColumns());
  }

  /**
   * A version read by time travel must still have all its files (cleanup may have removed some).
   */
  private void requireFiles(Snapshot snap) {
    long missing = 0;
    try {
      for (AddFile f : snap.files()) {
        if (!log.fs().exists(new Path(log.root(), f.path()))
            && !log.fs().exists(new Path(log.root(), Relocation.retired(f.path())))) {
          missing++;
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    if (missing > 0) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          "Version "
              + snap.version()
              + " of "
              + name
              + " can no longer be read: "
              + missing
              + " of its "
              + snap.files().size()
              + " files were removed by cleanup (they are kept for the retention period only)."
              + " Read a newer version; CALL <catalog>.system.history(table => ...) lists them");
    }
  }

  @Override
  public String toString() {
    return "FileTable(" + name + ")";
  }
}
