package io.tessera.file;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.ModeChoosingWriteBuilder;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableMetadata;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Decides a file write once: mode, options, and (for a new provider path) the table itself. */
public class FileWriteBuilder extends ModeChoosingWriteBuilder {
  private static final Logger LOG = LoggerFactory.getLogger(FileWriteBuilder.class);

  private final FileTable table;
  private final LogicalWriteInfo info;
  private final FileRowLevelOperation rewrite;

  FileWriteBuilder(FileTable table, LogicalWriteInfo info) {
    this(table, info, null);
  }

  /**
   * @param rewrite the DELETE, UPDATE or MERGE whose rows this write writes, or null
   */
  FileWriteBuilder(FileTable table, LogicalWriteInfo info, FileRowLevelOperation rewrite) {
    this.table = table;
    this.info = info;
    this.rewrite = rewrite;
  }

  @Override
  public boolean canOverwrite(Predicate[] predicates) {
    List<String> partitionColumns =
        table.metadata() == null ? List.of() : table.metadata().partitionColumns();
    String reason = PartitionValues.unsupportedReason(predicates, partitionColumns);
    if (reason != null && table.metadata() != null && table.staged() == null && rewrite == null) {
      // A condition on other columns: the commit rewrites the files that may hold matching rows
      // without them (ConditionalOverwrite).
      String rowReason = ConditionalOverwrite.unsupportedReason(predicates, table.schema());
      reason = rowReason == null ? null : rowReason;
    }
    if (reason != null) {
      // Refused here with the reason; returning false would give only Spark's generic
      // "does not support overwrite by expression".
      throw new TesseraException(
          TesseraError.UNSUPPORTED_PREDICATE,
          "tessera-file cannot overwrite "
              + table.name()
              + " where "
              + Arrays.toString(predicates)
              + ": "
              + reason
              + ". A tessera-file overwrite condition may compare top-level columns (partition"
              + " columns "
              + partitionColumns
              + ", or others) with literals (=, <>, <=>, <, <=, >, >=, IN, IS NULL, AND, OR, NOT);"
              + " nothing was written");
    }
    return true;
  }

  @Override
  public Write build() {
    Map<String, String> merged = new LinkedHashMap<>(table.options());
    merged.putAll(info.options().asCaseSensitiveMap());
    ParsedOptions options = FileWriteOptions.OPTIONS.parse(merged);
    TableMetadata metadata = table.metadata() != null ? table.metadata() : create(options);
    TableMetadata evolved = metadata;
    if (rewrite == null && (options.get(FileWriteOptions.MERGE_SCHEMA) || table.mergesSchema())) {
      evolved = merged(metadata, info.schema(), table.name());
    }
    // Spark resolves columns for catalog batch writes, but not for streaming sinks nor for a
    // provider write that lost the race to create the table: check every path here.
    conform(info.schema(), evolved.schema(), table.name());
    FileFormats.checkSupported(
        evolved.format(), dataSchema(evolved.schema(), evolved.partitionColumns()));
    return new FileWrite(
        table, info, options, metadata, evolved == metadata ? null : evolved, mode(), rewrite);
  }

  /**
   * {@code metadata} with the input's columns that the table lacks appended (nullable); null when
   * there are none. Columns the table has keep their type: a different type is still refused.
   */
  static TableMetadata merged(TableMetadata metadata, StructType input, String tableName) {
    StructType schema = metadata.schema();
    List<StructField> added = new java.util.ArrayList<>();
    for (StructField f : input.fields()) {
      if (indexOf(schema, f.name()) < 0) {
        added.add(f.copy(f.name(), f.dataType(), true, f.metadata()));
      }
    }
    if (added.isEmpty()) {
      return metadata;
    }
    StructType evolved = schema;
    for (StructField f : added) {
      evolved = evolved.add(f);
    }
    FileFormats.checkSupported(metadata.format(), dataSchema(evolved, metadata.partitionColumns()));
    return TableMetadata.of(
        evolved, metadata.partitionColumns(), metadata.format(), metadata.properties());
  }

  /**
   * Fails unless {@code input} has exactly the table's columns (by name, case-insensitively, in any
   * order) with the same types; files are then written in the table's column order.
   */
  static void conform(StructType input, StructType tableSchema, String tableName) {
    List<String> problems = new java.util.ArrayList<>();
    for (StructField c : tableSchema.fields()) {
      int i = indexOf(input, c.name());
      if (i < 0) {
        problems.add("column '" + c.name() + "' (" + c.dataType().sql() + ") is missing");
      } else if (!input.fields()[i].dataType().sameType(c.dataType())) {
        problems.add(
            "column '"
                + c.name()
                + "' is "
                + input.fields()[i].dataType().sql()
                + " but the table has "
                + c.dataType().sql()
                + " (cast it: cast("
                + c.name()
                + " as "
                + c.dataType().sql()
                + "))");
      }
    }
    for (StructField f : input.fields()) {
      if (indexOf(tableSchema, f.name()) < 0) {
        problems.add("column '" + f.name() + "' is not in the table (drop it)");
      }
    }
    if (!problems.isEmpty()) {
      throw new TesseraException(
          TesseraError.SCHEMA_MISMATCH,
          "The data does not match table "
              + tableName
              + " "
              + tableSchema.simpleString()
              + ": "
              + String.join("; ", problems)
              + ". Nothing was written");
    }
  }

  /** The position of column {@code name} in {@code schema}, case-insensitively; -1 if absent. */
  static int indexOf(StructType schema, String name) {
    StructField[] fields = schema.fields();
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].name().equalsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }

  /** Creates the table of a new provider path from the first write (log version 0). */
  private TableMetadata create(ParsedOptions options) {
    StructType schema = info.schema();
    List<String> partitionColumns =
        options.get(FileWriteOptions.PARTITION_BY) == null
            ? List.of()
            : Arrays.stream(options.get(FileWriteOptions.PARTITION_BY).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList();
    TableMetadata metadata =
        newMetadata(schema, partitionColumns, options.get(FileWriteOptions.FORMAT));
    LogEntry create =
        new LogEntry(0, System.currentTimeMillis(), "create", metadata, List.of(), List.of(), null);
    if (!table.log().commit(create, null, 0)) {
      Snapshot snap = table.log().snapshot();
      LOG.info("tessera-file: {} was created concurrently; using its metadata", table.name());
      return snap.metadata();
    }
    return metadata;
  }

  /** Validated metadata for a new table. */
  static TableMetadata newMetadata(
      StructType schema, List<String> partitionColumns, String format) {
    return newMetadata(schema, partitionColumns, format, Map.of());
  }

  /** Validated metadata for a new table that keeps {@code properties}. */
  static TableMetadata newMetadata(
      StructType schema,
      List<String> partitionColumns,
      String format,
      Map<String, String> properties) {
    String f = FileFormats.normalize(format);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (StructField field : schema.fields()) {
      if (!seen.add(field.name().toLowerCase(java.util.Locale.ROOT))) {
        throw new TesseraException(
            TesseraError.SCHEMA_MISMATCH,
            "Column '"
                + field.name()
                + "' differs from another column only in letter case; tessera-file matches"
                + " columns case-insensitively, as Spark does by default. Rename one of them");
      }
    }
    // Partition columns match case-insensitively, as Spark's columns do; the table keeps each
    // column's own spelling.
    partitionColumns =
        partitionColumns.stream()
            .map(c -> indexOf(schema, c) < 0 ? c : schema.fields()[indexOf(schema, c)].name())
            .toList();
    for (String c : partitionColumns) {
      if (schema.getFieldIndex(c).isEmpty()) {
        throw new TesseraException(
            TesseraError.SCHEMA_MISMATCH,
            "Partition column '"
                + c
                + "' is not a column; columns are "
                + String.join(", ", schema.fieldNames()));
      }
      PartitionValues.checkPartitionType(c, schema.apply(c).dataType());
    }
    if (!partitionColumns.isEmpty() && partitionColumns.size() == schema.size()) {
      throw new TesseraException(
          TesseraError.SCHEMA_MISMATCH,
          "A table needs at least one column that is not a partition column");
    }
    FileFormats.checkSupported(f, dataSchema(schema, partitionColumns));
    return TableMetadata.of(schema, partitionColumns, f, properties);
  }

  static StructType dataSchema(StructType schema, List<String> partitionColumns) {
    return new StructType(
        Arrays.stream(schema.fields())
            .filter(f -> !partitionColumns.contains(f.name()))
            .toArray(StructField[]::new));
  }
}
