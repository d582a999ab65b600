package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.BasePredicate;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.types.DataTypeUtils$;
import org.apache.spark.sql.execution.datasources.NoopCache$;
import org.apache.spark.sql.execution.datasources.PartitionDirectory;
import org.apache.spark.sql.execution.datasources.PartitionPath;
import org.apache.spark.sql.execution.datasources.PartitionSpec;
import org.apache.spark.sql.execution.datasources.PartitioningAwareFileIndex;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Spark's file index for one snapshot, built from the commit log alone. Planning a query lists no
 * folder, checks no file, runs no listing job and globs no path (a table folder may contain
 * {@code [ { * ?}): the partitions and their values come from the log, partition filters are
 * evaluated against them first, and file statuses (path and size from the log) are made only for
 * the partitions a query reads.
 */
final class LogFileIndex extends PartitioningAwareFileIndex {
  /** A block size for files whose real one the log does not keep (used to split large files). */
  private static final long BLOCK_SIZE = 128L * 1024 * 1024;

  private final Path root;
  private final String rootText;
  private final String rootUri;
  private final StructType partitionSchema;
  private final PartitionSpec spec;

  /** Per partition folder and values (relative folder, "" when unpartitioned): its files. */
  private final Map<String, List<AddFile>> filesByFolder = new LinkedHashMap<>();

  private final Map<String, PartitionPath> partitionByFolder = new LinkedHashMap<>();
  private final long sizeInBytes;
  private final long version;
  private final StructType schema;

  /** Files left out by the statistics in the last listing (for the scan's metric). */
  private volatile long skippedFiles;

  private scala.collection.mutable.LinkedHashMap<Path, FileStatus> leafFiles;
  private scala.collection.immutable.Map<Path, FileStatus[]> leafDirs;

  LogFileIndex(
      SparkSession spark,
      TableLog log,
      Snapshot snap,
      java.util.Collection<AddFile> files,
      StructType partitionSchema,
      Map<String, String> options) {
    super(
        spark,
        scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(options)),
        Option.empty(),
        NoopCache$.MODULE$);
    this.root = log.root();
    this.rootText = log.root().toString();
    this.rootUri = log.root().toUri().toString();
    this.partitionSchema = partitionSchema;
    this.version = snap.version();
    this.schema = snap.metadata().schema();
    this.filesOfSnapshot = files.size() == snap.files().size();
    long size = 0;
    for (AddFile f : files) {
      int slash = f.path().lastIndexOf('/');
      String folder = slash < 0 ? "" : f.path().substring(0, slash);
      // Grouped by folder and values: files of one folder can differ in values (a null and the
      // text '__HIVE_DEFAULT_PARTITION__' share the default folder).
      String group = folder + '\u0000' + f.partition();
      filesByFolder.computeIfAbsent(group, k -> new ArrayList<>()).add(f);
      if (!partitionByFolder.containsKey(group) && partitionSchema.nonEmpty()) {
        partitionByFolder.put(
            group, new PartitionPath(row(partitionSchema, f.partition()), path(folder)));
      }
      size += f.size();
    }
    this.sizeInBytes = size;
    this.spec =
        new PartitionSpec(
            partitionSchema,
            CollectionConverters.asScala(new ArrayList<>(partitionByFolder.values())).toSeq());
  }

  private final boolean filesOfSnapshot;

  /** Two scans of the same table version are the same (lets Spark reuse exchanges). */
  @Override
  public boolean equals(Object o) {
    return o instanceof LogFileIndex other
        && other.rootText.equals(rootText)
        && other.version == version
        && other.partitionSchema.equals(partitionSchema)
        && other.filesOfSnapshot
        && filesOfSnapshot;
  }

  /** How many files the statistics left out of the last listing. */
  long skippedFiles() {
    return skippedFiles;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(rootText, version);
  }

  @Override
  public PartitionSpec partitionSpec() {
    return spec;
  }

  @Override
  public scala.collection.immutable.Seq<Path> rootPaths() {
    return CollectionConverters.asScala(List.of(root)).toSeq();
  }

  @Override
  public void refresh() {
    // A snapshot does not change.
  }

  @Override
  public long sizeInBytes() {
    return sizeInBytes;
  }

  @Override
  public String[] inputFiles() {
    List<String> out = new ArrayList<>();
    filesByFolder.values().forEach(fs -> fs.forEach(f -> out.add(rootText + "/" + f.path())));
    return out.toArray(String[]::new);
  }

  @Override
  public scala.collection.immutable.Seq<PartitionDirectory> listFiles(
      scala.collection.immutable.Seq<Expression> partitionFilters,
      scala.collection.immutable.Seq<Expression> dataFilters) {
    List<PartitionDirectory> out = new ArrayList<>();
    List<org.apache.spark.sql.connector.expressions.filter.Predicate> data = new ArrayList<>();
    for (Expression e : CollectionConverters.asJava(dataFilters)) {
      Option<org.apache.spark.sql.connector.expressions.filter.Predicate> p =
          new org.apache.spark.sql.catalyst.util.V2ExpressionBuilder(e, true).buildPredicate();
      if (p.isDefined()) {
        data.add(p.get());
      }
    }
    long[] skipped = {0};
    java.util.function.Function<List<AddFile>, FileStatus[]> kept =
        files -> {
          if (data.isEmpty()) {
            return statuses(files);
          }
          List<AddFile> k = new ArrayList<>(files.size());
          for (AddFile f : files) {
            if (FileStats.mayMatch(data, f, schema)) {
              k.add(f);
            } else {
              skipped[0]++;
            }
          }
          return statuses(k);
        };
    if (partitionSchema.isEmpty()) {
      List<FileStatus> all = new ArrayList<>();
      filesByFolder.forEach((folder, files) -> all.addAll(List.of(kept.apply(files))));
      out.add(PartitionDirectory.apply(InternalRow.empty(), all.toArray(FileStatus[]::new)));
    } else {
      BasePredicate keep = predicate(CollectionConverters.asJava(partitionFilters));
      partitionByFolder.forEach(
          (folder, p) -> {
            if (keep == null || keep.eval(p.values())) {
              FileStatus[] files = kept.apply(filesByFolder.get(folder));
              if (files.length > 0) {
                out.add(PartitionDirectory.apply(p.values(), files));
              }
            }
          });
    }
    skippedFiles = skipped[0];
    return CollectionConverters.asScala(out).toSeq();
  }

  /** The filters over partition columns as one predicate on a partition's values, or null. */
  private BasePredicate predicate(List<Expression> filters) {
    if (filters.isEmpty()) {
      return null;
    }
    Expression combined = filters.get(0);
    for (int i = 1; i < filters.size(); i++) {
      combined = new And(combined, filters.get(i));
    }
    StructField[] fields = partitionSchema.fields();
    Attribute[] input = new Attribute[fields.length];
    for (Attribute ref : CollectionConverters.asJava(combined.references().toSeq())) {
      for (int i = 0; i < fields.length; i++) {
        if (fields[i].name().equalsIgnoreCase(ref.name())) {
          input[i] = ref;
        }
      }
    }
    for (int i = 0; i < fields.length; i++) {
      if (input[i] == null) {
        input[i] = DataTypeUtils$.MODULE$.toAttribute(fields[i]);
      }
    }
    return org.apache.spark.sql.catalyst.expressions.Predicate$.MODULE$.create(
        combined, CollectionConverters.asScala(List.of(input)).toSeq());
  }

  private FileStatus[] statuses(List<AddFile> files) {
    FileStatus[] out = new FileStatus[files.size()];
    for (int i = 0; i < out.length; i++) {
      AddFile f = files.get(i);
      out[i] = new FileStatus(f.size(), false, 1, BLOCK_SIZE, 0L, path(f.path()));
    }
    return out;
  }

  @Override
  public synchronized scala.collection.mutable.LinkedHashMap<Path, FileStatus> leafFiles() {
    if (leafFiles == null) {
      leafFiles = new scala.collection.mutable.LinkedHashMap<>();
      filesByFolder
          .values()
          .forEach(
              fs -> {
                for (FileStatus s : statuses(fs)) {
                  leafFiles.put(s.getPath(), s);
                }
              });
    }
    return leafFiles;
  }

  @Override
  public synchronized scala.collection.immutable.Map<Path, FileStatus[]> leafDirToChildrenFiles() {
    if (leafDirs == null) {
      Map<Path, FileStatus[]> m = new LinkedHashMap<>();
      filesByFolder.forEach(
          (group, fs) -> {
            String folder = group.substring(0, group.indexOf('\u0000'));
            Path dir = folder.isEmpty() ? root : path(folder);
            FileStatus[] before = m.get(dir);
            FileStatus[] add = statuses(fs);
            if (before == null) {
              m.put(dir, add);
            } else {
              FileStatus[] both = java.util.Arrays.copyOf(before, before.length + add.length);
              System.arraycopy(add, 0, both, before.length, add.length);
              m.put(dir, both);
            }
          });
      leafDirs = scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(m));
    }
    return leafDirs;
  }

  /**
   * The path of a table-relative file or folder. Built from a URI string (percent-encoding what a
   * URI path may not hold), which is several times faster than {@code new Path(String)} and gives
   * an equal path: planning makes one per file read.
   */
  private Path path(String rel) {
    return new Path(java.net.URI.create(rootUri + "/" + encode(rel)));
  }

  /**
   * The URI of table-relative file {@code rel} as the scan's files carry it ({@code _file}): the
   * same text {@code PartitionedFile.urlEncodedPath()} gives for the path {@link #path} makes.
   */
  static String uri(String rootUri, String rel) {
    return new Path(java.net.URI.create(rootUri + "/" + encode(rel))).toUri().toString();
  }

  private static String encode(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean plain = c > 0x7f || (c > 0x20 && c != 0x7f && "\"<>\\^`{|}%#?[]".indexOf(c) < 0);
      if (!plain && b == null) {
        b = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (b != null) {
        if (plain) {
          b.append(c);
        } else {
          b.append('%')
              .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
              .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
        }
      }
    }
    return b == null ? s : b.toString();
  }

  /** The partition values of a folder as Spark's internal row, typed by the table's schema. */
  private static InternalRow row(StructType schema, Map<String, String> values) {
    StructField[] fields = schema.fields();
    Object[] out = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      String text = values.get(fields[i].name());
      out[i] = text == null ? null : value(text, fields[i].dataType());
    }
    return new GenericInternalRow(out);
  }

  private static Object value(String text, DataType type) {
    if (type.equals(DataTypes.StringType)) {
      return UTF8String.fromString(text);
    } else if (type.equals(DataTypes.IntegerType)) {
      return Integer.parseInt(text);
    } else if (type.equals(DataTypes.LongType)) {
      return Long.parseLong(text);
    } else if (type.equals(DataTypes.ShortType)) {
      return Short.parseShort(text);
    } else if (type.equals(DataTypes.ByteType)) {
      return Byte.parseByte(text);
    } else if (type.equals(DataTypes.BooleanType)) {
      return Boolean.parseBoolean(text);
    } else if (type.equals(DataTypes.DateType)) {
      return (int) LocalDate.parse(text).toEpochDay();
    } else if (type instanceof DecimalType d) {
      return Decimal.apply(new BigDecimal(text), d.precision(), d.scale());
    }
    throw new IllegalStateException("Unsupported partition type " + type);
  }
}
