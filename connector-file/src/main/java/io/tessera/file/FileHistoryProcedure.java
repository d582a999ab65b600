package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.TableLog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.procedures.BoundProcedure;
import org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * {@code CALL files.system.history(table => 'ns.t')}: one row per commit of the table, newest
 * first: version, commit time, operation, files and rows added and removed, and for streaming the
 * query id and epoch. Any of these versions can be read with {@code VERSION AS OF} while its files
 * are kept.
 */
final class FileHistoryProcedure implements UnboundProcedure, BoundProcedure {
  static final String NAME = "history";

  private static final StructType RESULT =
      new StructType()
          .add("version", DataTypes.LongType, false)
          .add("timestamp", DataTypes.TimestampType, false)
          .add("operation", DataTypes.StringType, false)
          .add("files_added", DataTypes.LongType, false)
          .add("files_removed", DataTypes.LongType, false)
          .add("rows_added", DataTypes.LongType, false)
          .add("rows_removed", DataTypes.LongType, false)
          .add("query_id", DataTypes.StringType, true)
          .add("epoch", DataTypes.LongType, true);

  private final FileCatalog catalog;

  FileHistoryProcedure(FileCatalog catalog) {
    this.catalog = catalog;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "The commits of a tessera-file table, newest first";
  }

  @Override
  public BoundProcedure bind(StructType inputType) {
    return this;
  }

  @Override
  public ProcedureParameter[] parameters() {
    return new ProcedureParameter[] {
      ProcedureParameter.in("table", DataTypes.StringType).comment("namespace.table").build()
    };
  }

  @Override
  public boolean isDeterministic() {
    return false;
  }

  @Override
  public Iterator<Scan> call(InternalRow input) {
    String table = input.getUTF8String(0).toString();
    String[] parts = table.split("\\.", 2);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "history needs table => 'namespace.table', got '" + table + "'");
    }
    TableLog log = catalog.log(Identifier.of(new String[] {parts[0]}, parts[1]));
    long latest = log.latestVersion();
    if (latest < 0) {
      throw new IllegalArgumentException("There is no tessera-file table " + table);
    }
    // Replayed from the first entry, so removed files' row counts are known.
    Map<String, Long> rowsByPath = new HashMap<>();
    List<InternalRow> rows = new ArrayList<>();
    for (LogEntry e : log.entries(0, latest)) {
      long rowsAdded = e.add().stream().mapToLong(AddFile::rows).sum();
      long rowsRemoved = 0;
      for (String r : e.remove()) {
        Long n = rowsByPath.remove(r);
        rowsRemoved += n == null ? 0 : n;
      }
      e.add().forEach(a -> rowsByPath.put(a.path(), a.rows()));
      rows.add(
          new GenericInternalRow(
              new Object[] {
                e.version(),
                e.timestamp() * 1000L,
                UTF8String.fromString(e.operation()),
                (long) e.add().size(),
                (long) e.remove().size(),
                rowsAdded,
                rowsRemoved,
                e.streaming() == null ? null : UTF8String.fromString(e.streaming().queryId()),
                e.streaming() == null ? null : e.streaming().epochId()
              }));
    }
    java.util.Collections.reverse(rows);
    return io.tessera.common.procedures.CleanupProcedure.result(
        rows.toArray(InternalRow[]::new), RESULT);
  }
}
