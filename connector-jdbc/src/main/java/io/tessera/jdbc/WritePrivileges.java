package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.jdbc.dialect.JdbcDialect;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Driver-side, before any task runs: checks that the session's database user holds a privilege a
 * write needs, and otherwise fails naming the privilege, the object and the GRANT that fixes it,
 * instead of letting the database's bare "permission denied" surface after the load. Each check
 * runs a probe from the dialect that changes nothing, in a transaction that is rolled back.
 */
final class WritePrivileges {
  private final JdbcDialect dialect;
  private final JdbcConnector connector;
  private final String tableName;
  private final String user;

  /**
   * @param tableName the target as the user named it, for messages
   * @param user the database user as {@link JdbcDialect#currentUserQuery} returns it
   */
  WritePrivileges(JdbcDialect dialect, JdbcConnector connector, String tableName, String user) {
    this.dialect = dialect;
    this.connector = connector;
    this.tableName = tableName;
    this.user = user;
  }

  /** The user this session acts as: the owner of what it creates, the grantee of GRANTs. */
  static String currentUser(Connection c, JdbcDialect dialect) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(dialect.currentUserQuery())) {
      return rs.next() && rs.getString(1) != null ? rs.getString(1) : "";
    }
  }

  /** For the user of a new connection of {@code connector}. */
  static WritePrivileges ofCurrentUser(
      JdbcDialect dialect, JdbcConnector connector, String tableName) {
    try (Connection c = connector.open()) {
      return new WritePrivileges(dialect, connector, tableName, currentUser(c, dialect));
    } catch (SQLException e) {
      throw connector.sqlFailed("Reading the database user for " + tableName, "", e);
    }
  }

  /**
   * Fails unless the user may drop and rename {@code qualifiedTable}, as replacing it needs, where
   * the dialect can tell ({@link JdbcDialect#ownershipProbe}).
   */
  void requireOwnership(Connection c, String qualifiedTable, String why) throws SQLException {
    String probe = dialect.ownershipProbe(qualifiedTable);
    if (probe == null) {
      return;
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(probe)) {
      if (rs.next() && !rs.getBoolean(1)) {
        throw missing(
            "ownership of " + qualifiedTable,
            why,
            dialect.grantOwnership(rs.getString(2), qualifiedTable, dialect.grantee(user))
                + " (or replace its rows with INSERT OVERWRITE, which needs INSERT and DELETE"
                + " only)");
      }
    }
  }

  String user() {
    return user;
  }

  /**
   * Fails unless the user holds {@code privilege} on {@code qualifiedTable} ({@code column} is one
   * of its columns); {@code why} says what the write needs it for.
   */
  void require(Connection c, String privilege, String qualifiedTable, String column, String why) {
    require(
        c,
        privilege,
        qualifiedTable,
        column,
        why,
        dialect.grantOnTable(privilege, qualifiedTable, dialect.grantee(user)));
  }

  /**
   * As {@link #require}, for a table the write creates in {@code schema} (a new one each time): the
   * fix is a grant on the schema.
   */
  void requireOnNewTable(
      Connection c,
      String privilege,
      String qualifiedTable,
      String column,
      String why,
      String schema) {
    require(
        c,
        privilege,
        qualifiedTable,
        column,
        why,
        dialect.grantCreateIn(schema, dialect.grantee(user)));
  }

  private void require(
      Connection c,
      String privilege,
      String qualifiedTable,
      String column,
      String why,
      String grant) {
    boolean autoCommit = true;
    boolean held;
    try {
      autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        boolean query = st.execute(dialect.privilegeProbe(privilege, qualifiedTable, column));
        held = true;
        if (query) {
          try (ResultSet rs = st.getResultSet()) {
            held = !rs.next() || rs.getBoolean(1) || rs.getMetaData().getColumnCount() != 1;
          }
        }
      } finally {
        c.rollback();
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      // Privileges are checked before a statement runs: any other error (a NOT NULL column the
      // probe leaves out, say) means the privilege is there; the write itself reports the rest.
      held = !dialect.isPermissionDenied(e);
      if (held && e.getSQLState() != null && e.getSQLState().startsWith("08")) {
        throw connector.sqlFailed("Checking the privileges of the write into " + tableName, "", e);
      }
    }
    if (!held) {
      throw missing(privilege + " on " + qualifiedTable, why, grant);
    }
  }

  /**
   * The error for a CREATE TABLE in {@code schema} that the database refused for lack of a
   * privilege, or null if {@code e} is another failure.
   */
  RuntimeException createRefused(String sql, SQLException e, String schema, String what) {
    if (!dialect.isPermissionDenied(e)) {
      return null;
    }
    TesseraException out =
        missing(
            dialect.createPrivilegeName(schema),
            "to create " + what,
            dialect.grantCreateIn(schema, dialect.grantee(user)));
    out.addSuppressed(connector.sqlFailed("Statement failed", sql, e));
    return out;
  }

  TesseraException missing(String privilege, String why, String grant) {
    return new TesseraException(
        TesseraError.MISSING_PRIVILEGE,
        "Using "
            + tableName
            + " as database user '"
            + user
            + "' needs the privilege "
            + privilege
            + " ("
            + why
            + "), which the user does not hold; nothing was written. Ask an administrator to run: "
            + grant);
  }
}
