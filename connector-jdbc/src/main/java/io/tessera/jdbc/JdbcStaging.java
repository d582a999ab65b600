package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.staging.Publication;
import io.tessera.staging.StagingSpi;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CTAS / RTAS for {@link JdbcCatalog}: the new table is created under a hidden staging name in the
 * target's schema (invisible to {@code SHOW TABLES}, removed by the cleanup procedure if a driver
 * crashes), filled by the ordinary atomic write path, and then published:
 *
 * <ul>
 *   <li>PostgreSQL: one transaction renames the old table aside, renames the new one in and drops
 *       the old one. DDL is transactional, so readers see the old table until COMMIT and the new
 *       one after it (a reader blocked on the lock resolves the name again and finds the new one).
 *   <li>MariaDB/MySQL: one multi-table {@code RENAME TABLE old TO aside, new TO old} (atomic), then
 *       the old table is dropped.
 *   <li>H2: each DDL commits by itself, so the swap is best effort: see {@code
 *       BestEffortStagedTable}.
 * </ul>
 *
 * <p>A replace keeps nothing of the old table's definition (indexes, constraints, grants,
 * comments): the new table is what the query defines, as in Spark's REPLACE semantics. The old
 * table is never touched before publication, so an aborted replace leaves it exactly as it was.
 */
final class JdbcStaging implements StagingSpi<JdbcStaging.Hidden> {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcStaging.class);

  /** A hidden table in {@code schema}, created for the table {@code ident}. */
  record Hidden(
      Identifier ident, String schema, String name, StructType columns, List<String> keys) {}

  private final JdbcCatalog catalog;
  private final JdbcDialect dialect;
  private final JdbcConnector connector;

  JdbcStaging(JdbcCatalog catalog) {
    this.catalog = catalog;
    this.dialect = catalog.dialect();
    this.connector = catalog.connector();
  }

  @Override
  public String systemName() {
    return "tessera-jdbc (" + dialect.name() + ")";
  }

  @Override
  public boolean atomicSwap() {
    return dialect.tableSwap() != JdbcDialect.TableSwap.BEST_EFFORT;
  }

  @Override
  public Hidden createHidden(Identifier ident, TableInfo info, Publication publication)
      throws NoSuchNamespaceException {
    JdbcCatalog.requireSingle(ident.namespace());
    if (!catalog.namespaceExists(ident.namespace())) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    String schema = ident.namespace()[0];
    StructType columns = info.schema();
    List<String> keys = JdbcCatalog.partitionKeys(info.partitions(), columns);
    String name = hiddenName();
    String qualified = dialect.qualified(schema, name);
    List<String> ddl = new ArrayList<>();
    ddl.add(dialect.createTable(qualified, columns)); // validates every column type first
    String comment = JdbcCatalog.tableComment(dialect, columns, keys);
    if (comment != null) {
      ddl.add(dialect.setTableComment(qualified, comment));
    }
    String shown = catalog.stagedName(ident);
    if (publication.replaces() && catalog.tableExists(ident)) {
      try (Connection c = connector.open()) {
        WritePrivileges.ofCurrentUser(dialect, connector, shown)
            .requireOwnership(
                c, dialect.qualified(schema, ident.name()), "to " + publication.sql() + " it");
      } catch (SQLException e) {
        throw connector.sqlFailed("Reading the owner of " + shown, "", e);
      }
    }
    try {
      connector.execute(
          ddl,
          (sql, e) ->
              WritePrivileges.ofCurrentUser(dialect, connector, shown)
                  .createRefused(sql, e, schema, "the new table under a hidden name"));
    } catch (RuntimeException e) {
      try {
        connector.execute(List.of(dialect.dropTableIfExists(qualified)));
      } catch (RuntimeException dropFailed) {
        e.addSuppressed(dropFailed);
      }
      throw e;
    }
    LOG.info("tessera-jdbc: {} of {} stages its rows in {}", publication.sql(), ident, qualified);
    return new Hidden(ident, schema, name, columns, keys);
  }

  /**
   * The hidden table, with the query's own column types (so Spark inserts no cast: a TIMESTAMP_NTZ
   * column receives the wall-clock values as they are).
   */
  @Override
  public Table writable(Hidden hidden) {
    return new JdbcTable(
        catalog.stagedName(hidden.ident()),
        Identifier.of(new String[] {hidden.schema()}, hidden.name()),
        hidden.columns(),
        hidden.keys(),
        atomicOptions(catalog.catalogOptions()),
        dialect,
        connector,
        true);
  }

  /** The catalog's options without its default commit mode: a staged table is always atomic. */
  private static Map<String, String> atomicOptions(Map<String, String> catalogOptions) {
    Map<String, String> out = new java.util.HashMap<>(catalogOptions);
    out.keySet().removeIf(k -> k.equalsIgnoreCase(JdbcWriteOptions.COMMIT.name()));
    return Map.copyOf(out);
  }

  @Override
  public void swapIn(Hidden hidden, Identifier ident, Publication publication) {
    String schema = hidden.schema();
    String target = ident.name();
    String aside = asideName();
    try (Connection c = connector.open()) {
      boolean transactional = dialect.tableSwap() == JdbcDialect.TableSwap.TRANSACTIONAL_DDL;
      c.setAutoCommit(!transactional);
      boolean exists = catalog.tableExists(c, schema, target);
      if (exists) {
        refuseIfReferenced(c, ident, publication);
      }
      if (exists && !publication.replaces()) {
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "Table "
                + catalog.stagedName(ident)
                + " was created by someone else while this "
                + publication.sql()
                + " ran; nothing was published and the other table is unchanged");
      }
      List<String> sql = new ArrayList<>();
      if (exists) {
        sql.addAll(dialect.swapTables(schema, target, hidden.name(), aside));
        if (transactional) {
          sql.add(dropTable(schema, aside));
        }
      } else {
        sql.add(dialect.renameTable(schema, hidden.name(), schema, target));
      }
      run(c, sql, ident, publication);
      if (transactional) {
        commit(c, ident, publication);
      }
      LOG.info(
          "tessera-jdbc: {} published {} ({})",
          publication.sql(),
          catalog.stagedName(ident),
          exists ? "replaced" : "created");
      if (exists && !transactional) {
        dropAside(schema, aside);
      }
    } catch (SQLException e) {
      throw connector.sqlFailed(
          "Publishing " + publication.sql() + " of " + catalog.stagedName(ident) + " failed",
          "",
          e);
    }
  }

  private void run(Connection c, List<String> sql, Identifier ident, Publication publication)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      for (String s : sql) {
        try {
          st.execute(s);
        } catch (SQLException e) {
          JdbcConnector.rollbackQuietly(c);
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              publication.sql()
                  + " of "
                  + catalog.stagedName(ident)
                  + " could not be published; "
                  + (dialect.tableSwap() == JdbcDialect.TableSwap.BEST_EFFORT
                      ? ""
                      : "it was rolled back and the existing table, if any, is unchanged; ")
                  + "if other objects (views, foreign keys) depend on the old table, drop them"
                  + " first or use INSERT OVERWRITE, which keeps the table: "
                  + connector.redact(JdbcConnector.describe(e))
                  + " [SQL: "
                  + s
                  + "]",
              connector.redactThrowable(e));
        }
      }
    }
  }

  private void commit(Connection c, Identifier ident, Publication publication) {
    try {
      c.commit();
    } catch (SQLException e) {
      throw new TesseraException(
          TesseraError.COMMIT_OUTCOME_UNKNOWN,
          "The database did not confirm the commit of "
              + publication.sql()
              + " of "
              + catalog.stagedName(ident)
              + ": "
              + connector.redact(JdbcConnector.describe(e))
              + "; the old or the new table is in place (never neither): check before running it"
              + " again",
          connector.redactThrowable(e));
    }
  }

  @Override
  public void dropHidden(Hidden hidden) {
    connector.execute(List.of(dropTable(hidden.schema(), hidden.name())));
  }

  @Override
  public String moveAside(Identifier ident) {
    String schema = ident.namespace()[0];
    if (!catalog.tableExists(ident)) {
      return null;
    }
    try (Connection c = connector.open()) {
      refuseIfReferenced(c, ident, Publication.REPLACE);
    } catch (SQLException e) {
      throw connector.sqlFailed("Reading the foreign keys of " + ident + " failed", "", e);
    }
    String aside = asideName();
    connector.execute(List.of(dialect.renameTable(schema, ident.name(), schema, aside)));
    return aside;
  }

  @Override
  public void moveBack(String aside, Identifier ident) {
    String schema = ident.namespace()[0];
    connector.execute(List.of(dialect.renameTable(schema, aside, schema, ident.name())));
  }

  @Override
  public void dropAside(String aside, Identifier ident) {
    dropAside(ident.namespace()[0], aside);
  }

  private void dropAside(String schema, String aside) {
    try {
      connector.execute(List.of(dropTable(schema, aside)));
    } catch (RuntimeException e) {
      LOG.warn(
          "tessera-jdbc: the replaced table is kept as {}.{} ({}); drop it by hand when you no"
              + " longer need it",
          schema,
          aside,
          e.getMessage());
    }
  }

  /**
   * Refuses to replace a table that foreign keys of other tables reference: the database would
   * either refuse to drop it, or (InnoDB) move the references to the renamed old table, leaving
   * them checking retired rows. Nothing has been changed when this throws.
   */
  private void refuseIfReferenced(Connection c, Identifier ident, Publication publication)
      throws SQLException {
    String schema = ident.namespace()[0];
    List<String> referencing = new ArrayList<>();
    try (java.sql.ResultSet rs =
        dialect.schemasAreCatalogs()
            ? c.getMetaData().getExportedKeys(schema, null, ident.name())
            : c.getMetaData().getExportedKeys(null, schema, ident.name())) {
      while (rs.next()) {
        referencing.add(rs.getString("FKTABLE_NAME") + "." + rs.getString("FKCOLUMN_NAME"));
      }
    }
    if (!referencing.isEmpty()) {
      JdbcConnector.rollbackQuietly(c);
      throw new TesseraException(
          TesseraError.UNSUPPORTED_WRITE_MODE,
          publication.sql()
              + " of "
              + catalog.stagedName(ident)
              + " is refused: foreign keys of "
              + String.join(", ", referencing)
              + " reference it, and a replaced table cannot keep them. Nothing was changed; drop"
              + " those foreign keys first, or replace only the rows with INSERT OVERWRITE");
    }
  }

  /**
   * The name an old table gets while it is replaced. Not a staging name: the cleanup procedure
   * never drops it, because on H2 it can be the only copy of the old table after a failed swap.
   */
  private static String asideName() {
    return JdbcDialect.REPLACED_PREFIX
        + System.currentTimeMillis() / 1000
        + "_"
        + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  private String dropTable(String schema, String table) {
    return dialect.dropTableIfExists(dialect.qualified(schema, table));
  }

  private static String hiddenName() {
    return JdbcDialect.stagingTableName(
        System.currentTimeMillis() / 1000,
        UUID.randomUUID().toString().replace("-", "").substring(0, 12));
  }
}
