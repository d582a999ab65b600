package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.write.WriteMode;
import io.tessera.jdbc.dialect.JdbcDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.StructType;

/**
 * The step of a publish transaction that applies a row-level operation ({@code DELETE}, {@code
 * UPDATE}, {@code MERGE INTO}): the committed attempts' staged deletes, updates and inserts, each
 * tagged with its kind in {@link JdbcDialect#OPERATION_COLUMN}. Deletes and updates name their row
 * by the table's key and carry the row's version as the operation's scan read it.
 *
 * <p>Why nothing is lost between the scan and the publish: before changing anything, the step
 * checks under the write lock that every row to delete or update is still in the table with the
 * version the scan read ({@link JdbcDialect#rowVersion}). A row that another write changed or
 * deleted in between fails the whole operation, which then changes nothing (first committer wins).
 * Rows the operation did not touch may have changed: the result is that of the operation run before
 * those writes. Inserts are plain INSERTs: a key already in the table fails the operation, as the
 * table's key demands.
 */
final class DeltaRows {
  static final int DELETE = 1;
  static final int UPDATE = 2;
  static final int INSERT = 3;

  private final JdbcDialect dialect;
  private final StructType schema;
  private final WriteMode.RowLevel mode;
  private final String target;
  private final String staging;
  private final String tableName;

  private long deleted;
  private long updated;
  private long inserted;

  DeltaRows(
      JdbcDialect dialect,
      StructType schema,
      WriteMode.RowLevel mode,
      String target,
      String staging,
      String tableName) {
    this.dialect = dialect;
    this.schema = schema;
    this.mode = mode;
    this.target = target;
    this.staging = staging;
    this.tableName = tableName;
  }

  long deleted() {
    return deleted;
  }

  long updated() {
    return updated;
  }

  long inserted() {
    return inserted;
  }

  /**
   * Applies the staged changes inside the caller's transaction (which holds the table's write lock)
   * and returns how many staged rows it applied, for the caller's check against what the tasks
   * reported.
   */
  long apply(Connection c, List<List<Long>> attemptChunks) throws SQLException {
    deleted = updated = inserted = 0;
    if (attemptChunks.isEmpty()) {
      return 0;
    }
    List<Object> attempts = new ArrayList<>();
    attemptChunks.forEach(attempts::addAll);
    String committed =
        attemptChunks.stream()
            .map(ch -> attemptIn(ch.size()))
            .collect(Collectors.joining(" OR ", "(", ")"));
    long[] staged = stagedByOperation(c, committed, attempts);
    if (staged[DELETE] + staged[UPDATE] > 0) {
      refuseChangedRows(c, committed, attempts);
    }
    String on =
        mode.keys().stream()
            .map(k -> "t." + dialect.quote(k) + " = s." + dialect.quote(k))
            .collect(Collectors.joining(" AND "));
    String keyColumns = columns(mode.keys());
    if (staged[DELETE] > 0) {
      deleted =
          expect(
              c,
              dialect.deleteMatching(target, select(keyColumns, committed, DELETE), on),
              attempts,
              staged[DELETE],
              "deleted");
    }
    List<String> all = Arrays.asList(schema.fieldNames());
    List<String> values = all.stream().filter(f -> !mode.keys().contains(f)).toList();
    if (staged[UPDATE] > 0) {
      updated =
          values.isEmpty()
              ? staged[UPDATE] // only key columns, and those an update in place keeps
              : expect(
                  c,
                  dialect.updateMatching(
                      target, select(columns(all), committed, UPDATE), on, values),
                  attempts,
                  staged[UPDATE],
                  "updated");
    }
    if (staged[INSERT] > 0) {
      String cols = columns(all);
      String sql = "INSERT INTO " + target + " (" + cols + ") " + select(cols, committed, INSERT);
      try {
        inserted = expect(c, sql, attempts, staged[INSERT], "inserted");
      } catch (SQLException e) {
        if (dialect.isConstraintViolation(e)) {
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "The "
                  + mode.command()
                  + " into "
                  + tableName
                  + " inserts a row that the table refuses: its key "
                  + String.join(", ", mode.keys())
                  + " is in the table already, or it breaks another constraint ("
                  + e.getMessage()
                  + "). Nothing was changed",
              e);
        }
        throw e;
      }
    }
    return staged[DELETE] + staged[UPDATE] + staged[INSERT];
  }

  /** The committed staged rows per operation kind, indexed by {@link #DELETE} and so on. */
  private long[] stagedByOperation(Connection c, String committed, List<Object> attempts)
      throws SQLException {
    long[] out = new long[4];
    String op = "st." + dialect.quote(JdbcDialect.OPERATION_COLUMN);
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + op
                + ", COUNT(*) FROM "
                + staging
                + " st WHERE "
                + committed
                + " GROUP BY "
                + op)) {
      bind(ps, attempts);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int kind = rs.getInt(1);
          if (kind < DELETE || kind > INSERT) {
            throw new SQLException("staged row of unknown operation " + kind + " in " + staging);
          }
          out[kind] = rs.getLong(2);
        }
      }
    }
    return out;
  }

  /**
   * First committer wins: a row to delete or update that is no longer in the table with the version
   * the operation's scan read was changed or deleted by another write since; fail, naming its key.
   */
  private void refuseChangedRows(Connection c, String committed, List<Object> attempts)
      throws SQLException {
    String sameKey =
        mode.keys().stream()
            .map(k -> "t." + dialect.quote(k) + " = st." + dialect.quote(k))
            .collect(Collectors.joining(" AND "));
    String sql =
        "SELECT "
            + mode.keys().stream()
                .map(k -> "st." + dialect.quote(k))
                .collect(Collectors.joining(", "))
            + " FROM "
            + staging
            + " st WHERE "
            + committed
            + " AND st."
            + dialect.quote(JdbcDialect.OPERATION_COLUMN)
            + " IN ("
            + DELETE
            + ", "
            + UPDATE
            + ") AND NOT EXISTS (SELECT 1 FROM "
            + target
            + " t WHERE "
            + sameKey
            + " AND "
            + dialect.rowVersion("t", schema)
            + " = st."
            + dialect.quote(JdbcDialect.ROW_VERSION_COLUMN)
            + ")";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, attempts);
      ps.setMaxRows(1);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          List<String> parts = new ArrayList<>();
          for (int i = 0; i < mode.keys().size(); i++) {
            parts.add(mode.keys().get(i) + " = " + rs.getString(i + 1));
          }
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "The "
                  + mode.command()
                  + " into "
                  + tableName
                  + " read the row with "
                  + String.join(", ", parts)
                  + ", which another write changed or deleted before this one could commit."
                  + " Nothing was changed; run the "
                  + mode.command()
                  + " again");
        }
      }
    }
  }

  private long expect(Connection c, String sql, List<Object> attempts, long staged, String what)
      throws SQLException {
    long n = new SqlStatement(sql, attempts).run(c);
    if (n != staged) {
      throw new SQLException(
          what + " " + n + " rows of " + tableName + " for " + staged + " staged changes");
    }
    return n;
  }

  private String select(String columns, String committed, int operation) {
    return "SELECT "
        + columns
        + " FROM "
        + staging
        + " st WHERE "
        + committed
        + " AND st."
        + dialect.quote(JdbcDialect.OPERATION_COLUMN)
        + " = "
        + operation;
  }

  private String columns(List<String> names) {
    return names.stream().map(dialect::quote).collect(Collectors.joining(", "));
  }

  private String attemptIn(int n) {
    return "st."
        + dialect.quote(JdbcDialect.ATTEMPT_COLUMN)
        + " IN ("
        + String.join(", ", java.util.Collections.nCopies(n, "?"))
        + ")";
  }

  private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      ps.setObject(i + 1, params.get(i));
    }
  }
}
