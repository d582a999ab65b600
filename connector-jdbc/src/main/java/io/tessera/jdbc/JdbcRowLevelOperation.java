package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import java.util.List;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.DeltaWrite;
import org.apache.spark.sql.connector.write.DeltaWriteBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.SupportsDelta;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A delta-based {@code UPDATE}, {@code MERGE INTO} or {@code DELETE} on a {@link JdbcTable}: Spark
 * reads the table (with each row's version, see {@link
 * io.tessera.jdbc.dialect.JdbcDialect#rowVersion}), computes the changed rows, and hands the write
 * single deletes, updates and inserts keyed by the table's primary key. Tasks stage them; the
 * driver applies the committed attempts' changes in one transaction ({@link DeltaRows}), like any
 * atomic write. A table without a primary key has no way to name a row: UPDATE and MERGE are
 * refused, and a DELETE works only with a condition that translates to SQL ({@link
 * JdbcTable#deleteWhere}).
 */
final class JdbcRowLevelOperation implements SupportsDelta {
  private final JdbcTable table;
  private final Command command;
  private final List<String> keys;

  private JdbcRowLevelOperation(JdbcTable table, Command command, List<String> keys) {
    this.table = table;
    this.command = command;
    this.keys = keys;
  }

  /** Called by Spark's analyzer for every UPDATE, MERGE and DELETE of the table. */
  static JdbcRowLevelOperation of(JdbcTable table, Command command) {
    if (table.staged()) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc",
          command + " of the new table of CREATE / REPLACE TABLE AS SELECT " + table.name(),
          "change the table once it is created");
    }
    List<String> keys = primaryKey(table);
    if (keys.isEmpty() && command != Command.DELETE) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc",
          command + " of " + table.name(),
          table.name()
              + " has no primary key, and tessera-jdbc names the rows an "
              + command
              + " changes by it; add one (ALTER TABLE ... ADD PRIMARY KEY (...)), or write the"
              + " changed rows with writeMode=upsert and upsertKeys");
    }
    table.refuseNonTransactional(command + " of " + table.name());
    return new JdbcRowLevelOperation(table, command, keys);
  }

  /** The primary key's columns as the table's schema spells them; empty without one. */
  private static List<String> primaryKey(JdbcTable table) {
    List<String> pk = new UpsertKeys(table).readKeys().primaryKey();
    return pk.stream()
        .map(
            k -> {
              for (StructField f : table.schema().fields()) {
                if (f.name().equals(k)) {
                  return f.name();
                }
              }
              for (StructField f : table.schema().fields()) {
                if (f.name().equalsIgnoreCase(k)) {
                  return f.name();
                }
              }
              throw new IllegalStateException("primary key column " + k + " not in the schema");
            })
        .toList();
  }

  @Override
  public Command command() {
    return command;
  }

  @Override
  public String description() {
    return "tessera-jdbc " + command + " by " + String.join(", ", keys);
  }

  @Override
  public NamedReference[] rowId() {
    return keys.stream().map(Expressions::column).toArray(NamedReference[]::new);
  }

  @Override
  public NamedReference[] requiredMetadataAttributes() {
    return new NamedReference[] {Expressions.column(table.dialect().rowVersionColumn())};
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    return table.rowLevelScanBuilder(options);
  }

  @Override
  public DeltaWriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new DeltaWriteBuilder() {
      @Override
      public DeltaWrite build() {
        if (keys.isEmpty()) {
          throw new TesseraException(
              TesseraError.UNSUPPORTED_PREDICATE,
              "Cannot DELETE from "
                  + table.name()
                  + " where the condition cannot be translated to SQL (for example it calls a"
                  + " UDF): without a primary key tessera-jdbc cannot name the rows to delete."
                  + " Add a primary key, or use comparisons of columns with literals (=, <, IN, IS"
                  + " NULL, AND, OR, NOT); nothing was deleted");
        }
        java.util.Map<String, String> merged =
            new java.util.HashMap<>(
                JdbcWriteOptions.overlay(
                    table.catalogOptions(), info.options().asCaseSensitiveMap()));
        // commit=direct / two-phase are ways to append; a row-level change is always published
        // atomically, whatever the catalog's default for appends.
        merged.keySet().removeIf(k -> k.equalsIgnoreCase(JdbcWriteOptions.COMMIT.name()));
        ParsedOptions options = JdbcWriteOptions.OPTIONS.parse(merged);
        return new JdbcDeltaWrite(
            table, info, options, new WriteMode.RowLevel(command.name(), keys));
      }
    };
  }
}
