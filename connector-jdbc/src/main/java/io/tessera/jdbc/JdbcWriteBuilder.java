package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.ModeChoosingWriteBuilder;
import io.tessera.common.write.StreamingQueries;
import io.tessera.common.write.WriteMode;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.jdbc.dialect.SqlPredicates;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once, what a write does: the write mode from Spark's mixin calls, the options (write
 * option over catalog setting), and checks everything that can be checked before a task runs.
 */
public class JdbcWriteBuilder extends ModeChoosingWriteBuilder
    implements org.apache.spark.sql.internal.connector.SupportsStreamingUpdateAsAppend {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcWriteBuilder.class);

  private JdbcTable table;
  private final LogicalWriteInfo info;

  JdbcWriteBuilder(JdbcTable table, LogicalWriteInfo info) {
    this.table = table;
    this.info = info;
  }

  @Override
  public boolean canOverwrite(Predicate[] predicates) {
    try {
      new SqlPredicates(
              table.dialect(), JdbcDialect.withPlainStrings(info.schema(), table.schema()))
          .translate(predicates);
      return true;
    } catch (SqlPredicates.Untranslatable e) {
      LOG.warn(
          "tessera-jdbc cannot overwrite {} by {}: {}",
          table.name(),
          Arrays.toString(predicates),
          e.getMessage());
      return false;
    }
  }

  /** Options that choose the database; a catalog table's database is the catalog's. */
  private static final java.util.Set<String> CONNECTION_OPTIONS =
      java.util.Set.of("url", "user", "password");

  @Override
  public Write build() {
    Map<String, String> writeOptions = info.options().asCaseSensitiveMap();
    if (table.pathless() != null) {
      JdbcProviderOptions.forWrite(writeOptions, table.connector().driverClass());
      writeOptions = JdbcProviderOptions.tesseraOptions(writeOptions);
      if (table.pathless().missing()) {
        table = createForFirstWrite(table);
      }
    } else {
      refuseConnectionOptions();
    }
    return build(writeOptions);
  }

  /**
   * A path-less write to a table that does not exist: create it from the data's schema, as Spark's
   * JDBC source does (a failing first job leaves the empty table behind), then write as to any.
   */
  private static JdbcTable createForFirstWrite(JdbcTable pending) {
    JdbcCatalog catalog = pending.pathless().catalog();
    try {
      try {
        catalog.createForWrite(
            pending.ident(), pending.schema(), pending.pathless().createTableOptions());
      } catch (RuntimeException e) {
        if (!catalog.tableExists(pending.ident())) {
          throw e;
        } // created meanwhile by another write (or the previous micro-batch)
      }
      return ((JdbcTable) catalog.loadTable(pending.ident()))
          .pathless(
              new JdbcTable.Pathless(catalog, pending.pathless().createTableOptions(), false));
    } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
      throw new IllegalStateException("Table " + pending.name() + " vanished after creation", e);
    }
  }

  private void refuseConnectionOptions() {
    for (String key : info.options().keySet()) {
      if (CONNECTION_OPTIONS.contains(key.toLowerCase(java.util.Locale.ROOT))) {
        throw new TesseraException(
            TesseraError.INVALID_OPTION_VALUE,
            "Option '"
                + key
                + "' cannot be set on a write to "
                + table.name()
                + ": the catalog's connection decides which database the table is in; register"
                + " another catalog (spark.sql.catalog.<name>.url, .user, .password) for another"
                + " database or user");
      }
    }
  }

  private Write build(Map<String, String> writeOptions) {
    ParsedOptions options =
        JdbcWriteOptions.OPTIONS.parse(
            JdbcWriteOptions.overlay(table.catalogOptions(), writeOptions));
    StructType schema = JdbcDialect.withPlainStrings(info.schema(), table.schema());
    table.dialect().checkWritable(schema);
    WriteMode chosen = mode();
    List<String> keys = List.of();
    if (chosen instanceof WriteMode.DynamicOverwrite) {
      keys = dynamicOverwriteKeys(options, schema);
      if (keys.isEmpty()) {
        // As Spark's and Iceberg's dynamic overwrite of an unpartitioned table: the whole table
        // is one partition, so the new rows replace all of it.
        LOG.info(
            "tessera-jdbc: {} has no partition keys; overwritePartitions() replaces the whole table",
            table.name());
        chosen = new WriteMode.Truncate();
      }
    }
    JdbcWriteOptions.CommitMode commit = options.get(JdbcWriteOptions.COMMIT);
    org.apache.spark.sql.streaming.OutputMode streaming =
        StreamingQueries.outputMode(info.queryId());
    boolean updateMode =
        streaming != null && streaming.equals(org.apache.spark.sql.streaming.OutputMode.Update());
    if (options.get(JdbcWriteOptions.WRITE_MODE) == JdbcWriteOptions.WriteModeOption.UPSERT
        || updateMode) {
      chosen = new UpsertKeys(table).decide(options, schema, chosen, updateMode);
    }
    if (streaming != null && commit == JdbcWriteOptions.CommitMode.DIRECT) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc with commit=direct",
          "a streaming write into " + table.name(),
          "only the atomic commit records each epoch with its rows, which makes a restarted query"
              + " exactly-once; remove option 'commit'");
    }
    if (commit == JdbcWriteOptions.CommitMode.DIRECT && table.staged()) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc with commit=direct",
          "CREATE / REPLACE TABLE AS SELECT of " + table.name(),
          "a staged table is always published atomically; remove option 'commit'");
    }
    if (commit == JdbcWriteOptions.CommitMode.DIRECT && !(chosen instanceof WriteMode.Append)) {
      throw TesseraErrors.unsupportedWriteMode(
          "tessera-jdbc with commit=direct",
          chosen.describe(),
          "direct mode cannot replace rows atomically; use the default commit=atomic");
    }
    if (commit == JdbcWriteOptions.CommitMode.TWO_PHASE) {
      refuseTwoPhase(streaming != null, chosen);
    }
    checkTargetCanBePublished(options, commit, chosen);
    if (chosen instanceof WriteMode.OverwriteByFilter f) {
      try {
        new SqlPredicates(table.dialect(), schema)
            .translate(f.predicates().toArray(Predicate[]::new));
      } catch (SqlPredicates.Untranslatable e) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_PREDICATE,
            "Cannot overwrite " + table.name() + " where " + f.describe() + ": " + e.getMessage());
      }
    }
    return new JdbcWrite(table, info, options, chosen, keys);
  }

  /** What commit=two-phase does not do (yet), refused before anything is written. */
  private void refuseTwoPhase(boolean streaming, WriteMode chosen) {
    String mode = "tessera-jdbc with commit=two-phase";
    if (table.dialect().preparedTransactions() == null) {
      throw TesseraErrors.unsupportedWriteMode(
          mode,
          "a write into " + table.name() + " (" + table.dialect().name() + ")",
          "two-phase commit needs PostgreSQL or MariaDB/MySQL; use the default commit=atomic");
    }
    if (streaming) {
      throw TesseraErrors.unsupportedWriteMode(
          mode,
          "a streaming write into " + table.name(),
          "streaming writes record each epoch with the atomic commit; remove option 'commit'");
    }
    if (table.staged()) {
      throw TesseraErrors.unsupportedWriteMode(
          mode,
          "CREATE / REPLACE TABLE AS SELECT of " + table.name(),
          "a staged table is always published atomically; remove option 'commit'");
    }
    if (!(chosen instanceof WriteMode.Append)) {
      throw TesseraErrors.unsupportedWriteMode(
          mode,
          chosen.describe() + " of " + table.name(),
          "two-phase commit appends; to replace or upsert rows atomically use the default"
              + " commit=atomic");
    }
  }

  /**
   * Refuses, before any task runs, targets where the publish would not be atomic (a storage engine
   * without transactions) or would change other tables (deleting rows that ON DELETE CASCADE / SET
   * NULL foreign keys reference), unless the user opted in.
   */
  private void checkTargetCanBePublished(
      ParsedOptions options, JdbcWriteOptions.CommitMode commit, WriteMode chosen) {
    String schemaName = table.schemaName();
    String tableName = table.tableName();
    try (java.sql.Connection c = table.connector().open()) {
      String reason = table.dialect().nonTransactionalReason(c, schemaName, tableName);
      if (reason != null && commit != JdbcWriteOptions.CommitMode.DIRECT) {
        throw TesseraErrors.unsupportedWriteMode(
            "tessera-jdbc",
            "commit="
                + (commit == JdbcWriteOptions.CommitMode.ATOMIC ? "atomic" : "two-phase")
                + " into "
                + table.name(),
            reason
                + ", so a failed publish could not be rolled back; convert the table (e.g."
                + " ALTER TABLE ... ENGINE=InnoDB), or append with option 'commit'='direct'"
                + " (not atomic)");
      }
      if (chosen instanceof WriteMode.Append
          || options.get(JdbcWriteOptions.ALLOW_CASCADING_DELETES)) {
        return;
      }
      List<String> cascading = table.cascadingReferences(c);
      if (!cascading.isEmpty()) {
        throw TesseraErrors.unsupportedWriteMode(
            "tessera-jdbc",
            chosen.describe() + " of " + table.name(),
            "deleting its replaced rows would also change "
                + String.join(", ", cascading)
                + "; set option 'allowCascadingDeletes'='true' if that is intended, or append");
      }
    } catch (java.sql.SQLException e) {
      throw table
          .connector()
          .sqlFailed("Checking whether " + table.name() + " can be written failed", "", e);
    }
  }

  private List<String> dynamicOverwriteKeys(ParsedOptions options, StructType schema) {
    List<String> keys =
        options.isSet(JdbcWriteOptions.PARTITION_KEYS)
            ? Arrays.stream(options.get(JdbcWriteOptions.PARTITION_KEYS).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList()
            : table.partitionKeys();
    for (String k : keys) {
      if (!Arrays.asList(schema.fieldNames()).contains(k)) {
        throw new TesseraException(
            TesseraError.INVALID_OPTION_VALUE,
            "Option 'partitionKeys' names column '"
                + k
                + "', which "
                + table.name()
                + " does not have; its columns are "
                + String.join(", ", schema.fieldNames()));
      }
    }
    return keys;
  }
}
