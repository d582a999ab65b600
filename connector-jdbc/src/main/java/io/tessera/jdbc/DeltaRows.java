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
 * <p>Why nothing is lost between the scan and the publish: the step deletes and updates each row
 * only where it still has the version the scan read ({@link JdbcDialect#rowVersion}), and checks
 * that every staged change found its row. A row that another write changed or deleted in between
 * fails the whole operation, which then changes nothing (first committer wins). Rows the operation
 * did not touch may have changed: the result is that of the operation run before those writes.
 * Inserts are plain INSERTs: a key already in the table fails the operation, as the table's key
 * demands.
 */
final class DeltaRows {
  static final int DELETE = 1;
  static final int UPDATE = 2;
  static final int INSERT = 3;

  /** The delete half of an update that changes the row's key. */
  static final int KEY_CHANGE_DELETE = 4;

  /** The insert half of an update that changes the row's key. */
  static final int KEY_CHANGE_INSERT = 5;

  private final JdbcTable table;
  private final boolean allowCascadingDeletes;

  private final JdbcDialect dialect;
  private final StructType schema;
  private final WriteMode.RowLevel mode;
  private final String target;
  private final String staging;
  private final String tableName;

  /** Set at the start of {@link #apply}, in the publish transaction. */
  private java.sql.Savepoint beforeChanges;

  private long deleted;
  private long updated;
  private long inserted;

  DeltaRows(
      JdbcTable table,
      StructType schema,
      WriteMode.RowLevel mode,
      String staging,
      boolean allowCascadingDeletes) {
    this.table = table;
    this.dialect = table.dialect();
    this.schema = schema;
    this.mode = mode;
    this.target = table.qualifiedName();
    this.staging = staging;
    this.tableName = table.name();
    this.allowCascadingDeletes = allowCascadingDeletes;
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
    beforeChanges = c.setSavepoint();
    long[] staged = stagedByOperation(c, committed, attempts);
    if (staged[KEY_CHANGE_DELETE] > 0 && !allowCascadingDeletes) {
      refuseCascadingKeyChanges(c);
    }
    // Each row to delete or update is matched by its key AND the version the scan read; the
    // databases evaluate that on the row's latest version (also when another writer, one that
    // bypasses Tessera's lock, changed it meanwhile), so a changed row is skipped, the statement's
    // count falls short, and the publish fails, naming the row (refuseChangedRows).
    String version = dialect.quote(JdbcDialect.ROW_VERSION_COLUMN);
    String on =
        mode.keys().stream()
                .map(k -> "t." + dialect.quote(k) + " = s." + dialect.quote(k))
                .collect(Collectors.joining(" AND "))
            + " AND "
            + dialect.rowVersion("t", schema)
            + " = s."
            + version;
    String keyColumns = columns(mode.keys()) + ", " + version;
    if (staged[DELETE] + staged[KEY_CHANGE_DELETE] > 0) {
      // DISTINCT: Spark checks no cardinality for a MERGE whose only matched action is an
      // unconditional DELETE, so two source rows may delete one target row.
      String rowsToDelete =
          stagedRows("DISTINCT " + keyColumns, committed, DELETE, KEY_CHANGE_DELETE);
      deleted =
          expect(
              c,
              dialect.deleteMatching(target, rowsToDelete, on),
              committed,
              attempts,
              distinctCount(c, rowsToDelete, attempts),
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
                      target,
                      stagedRows(columns(all) + ", " + version, committed, UPDATE),
                      on,
                      values),
                  committed,
                  attempts,
                  staged[UPDATE],
                  "updated");
    }
    if (staged[INSERT] + staged[KEY_CHANGE_INSERT] > 0) {
      String cols = columns(all);
      String sql =
          "INSERT INTO "
              + target
              + " ("
              + cols
              + ") "
              + stagedRows(cols, committed, INSERT, KEY_CHANGE_INSERT)
              // In key order, the inserts walk the key index in order, not at random.
              + " ORDER BY "
              + columns(mode.keys());
      try {
        inserted =
            expect(
                c,
                sql,
                committed,
                attempts,
                staged[INSERT] + staged[KEY_CHANGE_INSERT],
                "inserted");
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
                  + table.connector().redact(JdbcConnector.describe(e))
                  + "). Nothing was changed",
              table.connector().redactThrowable(e));
        }
        throw e;
      }
    }
    return staged[DELETE]
        + staged[UPDATE]
        + staged[INSERT]
        + staged[KEY_CHANGE_DELETE]
        + staged[KEY_CHANGE_INSERT];
  }

  private long distinctCount(Connection c, String select, List<Object> attempts)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT COUNT(*) FROM (" + select + ") " + dialect.quote("d"))) {
      bind(ps, attempts);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * An update that changes a key is published as a delete of the old row and an insert of the new
   * one: where other tables' foreign keys cascade on delete, that delete would delete or clear
   * their rows, which an UPDATE would not. Refuse, naming them, unless the user opted in.
   */
  private void refuseCascadingKeyChanges(Connection c) throws SQLException {
    List<String> cascading = table.cascadingReferences(c);
    if (!cascading.isEmpty()) {
      throw new TesseraException(
          TesseraError.UNSUPPORTED_WRITE_MODE,
          "The "
              + mode.command()
              + " into "
              + tableName
              + " changes the key "
              + String.join(", ", mode.keys())
              + " of rows, which tessera-jdbc publishes as a delete of the old row and an insert"
              + " of the new one; the delete would also change "
              + String.join(", ", cascading)
              + ". Nothing was changed. Change the keys in the database itself, or set option"
              + " 'allowCascadingDeletes'='true' if that is intended");
    }
  }

  /** The committed staged rows per operation kind, indexed by {@link #DELETE} and so on. */
  private long[] stagedByOperation(Connection c, String committed, List<Object> attempts)
      throws SQLException {
    long[] out = new long[KEY_CHANGE_INSERT + 1];
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
          if (kind < DELETE || kind > KEY_CHANGE_INSERT) {
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
        stagedRows(
                mode.keys().stream()
                    .map(k -> "st." + dialect.quote(k))
                    .collect(Collectors.joining(", ")),
                committed,
                DELETE,
                UPDATE,
                KEY_CHANGE_DELETE)
            + " AND NOT EXISTS (SELECT 1 FROM "
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

  private long expect(
      Connection c, String sql, String committed, List<Object> attempts, long staged, String what)
      throws SQLException {
    long n = new SqlStatement(sql, attempts).run(c);
    if (n != staged && !what.equals("inserted")) {
      // Back to before this step's own changes, then name the row another write changed.
      c.rollback(beforeChanges);
      refuseChangedRows(c, committed, attempts);
    }
    if (n != staged) {
      throw new SQLException(
          what + " " + n + " rows of " + tableName + " for " + staged + " staged changes");
    }
    return n;
  }

  /** {@code SELECT columns} of the committed attempts' staged rows of the given operations. */
  private String stagedRows(String columns, String committed, int... operations) {
    return "SELECT "
        + columns
        + " FROM "
        + staging
        + " st WHERE "
        + committed
        + " AND st."
        + dialect.quote(JdbcDialect.OPERATION_COLUMN)
        + " IN ("
        + java.util.Arrays.stream(operations)
            .mapToObj(String::valueOf)
            .collect(Collectors.joining(", "))
        + ")";
  }

  private String columns(List<String> names) {
    return names.stream().map(dialect::quote).collect(Collectors.joining(", "));
  }

  private String attemptIn(int n) {
    return dialect.attemptIn("st", n);
  }

  private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
    SqlStatement.bind(ps, params);
  }
}
