package io.tessera.jdbc.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A database's two-phase commit, for {@code commit=two-phase}: a task loads the target in a
 * transaction and prepares it (it survives the connection, holding its rows and locks, invisible to
 * readers) under a global id; the driver later commits or rolls back prepared transactions by id on
 * any connection of the same user. Ids are Tessera's own ({@code [a-z0-9_]} only), so they are
 * written as literals (neither database takes them as parameters).
 */
public abstract class PreparedTransactions {
  /** Why this server cannot prepare transactions (with the setting to change), or null. */
  public abstract String unavailableReason(Connection c) throws SQLException;

  /**
   * Why this server cannot hold {@code count} more prepared transactions now, or null (PostgreSQL
   * limits them with max_prepared_transactions; MariaDB does not).
   */
  public String capacityProblem(Connection c, int count) throws SQLException {
    return null;
  }

  /** Starts the task's transaction on a fresh connection. */
  public abstract void begin(Connection c, String gid) throws SQLException;

  /** Prepares the task's transaction: from here only the driver can end it. */
  public abstract void prepare(Connection c, String gid) throws SQLException;

  /** Rolls back a task's transaction that was not prepared. */
  public abstract void rollbackUnprepared(Connection c, String gid) throws SQLException;

  /** The prepared transactions of this database whose id starts with {@code prefix}. */
  public abstract List<String> list(Connection c, String prefix) throws SQLException;

  /** Commits a prepared transaction (on an autocommit connection). */
  public abstract void commit(Connection c, String gid) throws SQLException;

  /** Rolls back a prepared transaction (on an autocommit connection). */
  public abstract void rollback(Connection c, String gid) throws SQLException;

  /**
   * Whether {@code e} says the prepared transaction cannot be ended now: it does not exist (ended
   * already, or on MariaDB still attached to its task's closing session) or another session is
   * ending it. The caller looks again whether it is still prepared.
   */
  public abstract boolean isUnknownOrBusy(SQLException e);

  static String literal(String gid) {
    if (!gid.matches("[a-z0-9_]{1,64}")) {
      throw new IllegalArgumentException("not a Tessera transaction id: " + gid);
    }
    return "'" + gid + "'";
  }

  static void run(Connection c, String... sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  /** PostgreSQL: PREPARE TRANSACTION, pg_prepared_xacts, COMMIT/ROLLBACK PREPARED. */
  static final class Postgres extends PreparedTransactions {
    @Override
    public String unavailableReason(Connection c) throws SQLException {
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SHOW max_prepared_transactions")) {
        rs.next();
        if (Integer.parseInt(rs.getString(1).trim()) == 0) {
          return "the PostgreSQL server has max_prepared_transactions = 0, so it cannot prepare"
              + " transactions: set it (e.g. ALTER SYSTEM SET max_prepared_transactions = 64, at"
              + " least the write's partitions times its concurrent writes) and restart the"
              + " server";
        }
      }
      return null;
    }

    @Override
    public String capacityProblem(Connection c, int count) throws SQLException {
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT current_setting('max_prepared_transactions')::int,"
                      + " (SELECT count(*) FROM pg_prepared_xacts)")) {
        rs.next();
        int max = rs.getInt(1);
        int used = rs.getInt(2);
        if (count > max - used) {
          return "the write has "
              + count
              + " partitions, each preparing a transaction, but the PostgreSQL server allows "
              + max
              + " prepared transactions (max_prepared_transactions) and "
              + used
              + " are prepared now: raise the setting (restart), repartition the write to fewer"
              + " partitions, or end the prepared transactions left (CALL"
              + " <catalog>.system.cleanup, pg_prepared_xacts)";
        }
      }
      return null;
    }

    @Override
    public void begin(Connection c, String gid) throws SQLException {
      // A task that waits for a lock held by a prepared transaction (a key another attempt of the
      // write inserted, a writer queued behind one) would wait for a decision that only comes
      // after it finishes: fail it after a minute instead of hanging.
      run(c, "SET lock_timeout = '60s'");
      c.setAutoCommit(false);
    }

    @Override
    public void prepare(Connection c, String gid) throws SQLException {
      run(c, "PREPARE TRANSACTION " + literal(gid));
    }

    @Override
    public void rollbackUnprepared(Connection c, String gid) throws SQLException {
      c.rollback();
    }

    @Override
    public List<String> list(Connection c, String prefix) throws SQLException {
      List<String> out = new ArrayList<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()"
                  + " AND substr(gid, 1, ?) = ? ORDER BY gid")) {
        ps.setInt(1, prefix.length());
        ps.setString(2, prefix);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      }
      return out;
    }

    @Override
    public void commit(Connection c, String gid) throws SQLException {
      run(c, "COMMIT PREPARED " + literal(gid));
    }

    @Override
    public void rollback(Connection c, String gid) throws SQLException {
      run(c, "ROLLBACK PREPARED " + literal(gid));
    }

    @Override
    public boolean isUnknownOrBusy(SQLException e) {
      // 42704: no such prepared transaction; 55000: it is busy (another session is ending it)
      return "42704".equals(e.getSQLState()) || "55000".equals(e.getSQLState());
    }
  }

  /** MariaDB/MySQL: XA START/END/PREPARE, XA RECOVER, XA COMMIT/ROLLBACK (InnoDB). */
  static final class MariaDb extends PreparedTransactions {
    /**
     * MariaDB keeps a prepared XA transaction after its session ends only from 10.5.2 on
     * (MDEV-742); the driver must be able to list them ({@code XA RECOVER}; MySQL 8 needs
     * XA_RECOVER_ADMIN). InnoDB supports XA; the target's engine is checked on its own.
     */
    @Override
    public String unavailableReason(Connection c) throws SQLException {
      String version;
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT VERSION()")) {
        rs.next();
        version = rs.getString(1);
      }
      if (version.contains("MariaDB")) {
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)").matcher(version);
        if (m.find()) {
          int v =
              Integer.parseInt(m.group(1)) * 10000
                  + Integer.parseInt(m.group(2)) * 100
                  + Integer.parseInt(m.group(3));
          if (v < 100502) {
            return "MariaDB "
                + version
                + " rolls back a prepared XA transaction when its session ends (fixed in 10.5.2,"
                + " MDEV-742)";
          }
        }
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("XA RECOVER")) {
        while (rs.next()) {
          // listing works
        }
      } catch (SQLException e) {
        return "the database user cannot list prepared XA transactions (XA RECOVER: "
            + e.getMessage()
            + "; on MySQL 8 grant XA_RECOVER_ADMIN)";
      }
      return null;
    }

    @Override
    public void begin(Connection c, String gid) throws SQLException {
      c.setAutoCommit(true);
      run(c, "XA START " + literal(gid));
    }

    @Override
    public void prepare(Connection c, String gid) throws SQLException {
      run(c, "XA END " + literal(gid), "XA PREPARE " + literal(gid));
    }

    @Override
    public void rollbackUnprepared(Connection c, String gid) throws SQLException {
      try {
        run(c, "XA END " + literal(gid));
      } catch (SQLException ended) {
        // ended already (a failed prepare); the rollback below still applies
      }
      run(c, "XA ROLLBACK " + literal(gid));
    }

    @Override
    public List<String> list(Connection c, String prefix) throws SQLException {
      List<String> out = new ArrayList<>();
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("XA RECOVER")) {
        while (rs.next()) {
          String data = rs.getString("data");
          int length = rs.getInt("gtrid_length");
          String gid = data.substring(0, Math.min(length, data.length()));
          if (gid.startsWith(prefix)) {
            out.add(gid);
          }
        }
      }
      out.sort(null);
      return out;
    }

    @Override
    public void commit(Connection c, String gid) throws SQLException {
      run(c, "XA COMMIT " + literal(gid));
    }

    @Override
    public void rollback(Connection c, String gid) throws SQLException {
      try {
        run(c, "XA ROLLBACK " + literal(gid));
      } catch (SQLException e) {
        if (e.getErrorCode() != 1402) { // XA_RBROLLBACK: rolled back already
          throw e;
        }
      }
    }

    @Override
    public boolean isUnknownOrBusy(SQLException e) {
      // ER_XAER_NOTA: unknown XID, also while the branch is still attached to its task's session
      return e.getErrorCode() == 1397;
    }
  }
}
