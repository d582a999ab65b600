package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.jdbc.dialect.PreparedTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's part of {@code commit=two-phase}. Every task attempt loads the target in its own
 * transaction and prepares it under the id {@code tsr2pc_<scope>_<start>_<write>_<partition>_<task
 * attempt>}; {@code scope} is a checksum of the writing user's ledger (one per user and schema),
 * {@code start} the write's start in epoch seconds.
 *
 * <p>{@link #commit}: under the scope's lock row in the ledger, checks that every chosen attempt's
 * transaction is still prepared and records the decision (one ledger row per chosen id) in one
 * transaction; then commits the chosen transactions, rolls back every other prepared transaction of
 * the write (failed, killed or speculative attempts, including those that never reported), and
 * deletes the decision. A driver that dies after recording the decision leaves it in the ledger:
 * {@link #recover} (run by the next two-phase write of the user into the schema, and by {@code CALL
 * <catalog>.system.cleanup}) commits decided transactions; cleanup also rolls back undecided ones
 * older than its threshold, under the same lock, so a decision and a rollback never meet.
 */
final class TwoPhaseCommit {
  private static final Logger LOG = LoggerFactory.getLogger(TwoPhaseCommit.class);

  static final String PREFIX = "tsr2pc_";

  /**
   * A prepared transaction without a decision whose write started this long ago is rolled back by
   * the next two-phase write (its driver is gone, or the write fails cleanly at its decision).
   */
  static final long UNDECIDED_LIMIT_SECONDS = 24 * 3600;

  /** The ledger row whose lock serialises decisions and rollbacks of undecided transactions. */
  private static final String LOCK_ROW = "tsr2pc_lock";

  /** Test hook: the driver "dies" right after recording its decision (commits nothing). */
  static volatile boolean dieAfterDecisionForTests;

  /** Test hook: the driver "crashes" before its decision: commits nothing, rolls back nothing. */
  static volatile boolean crashBeforeDecisionForTests;

  /** Test hook: added to the clock, so that cleanup sees transactions as older than they are. */
  static volatile long clockOffsetSecondsForTests;

  private final JdbcConnector connector;
  private final JdbcDialect dialect;
  private final PreparedTransactions prepared;
  private final String ledger;
  private final String tableName;
  private volatile boolean decided;

  /** The decision's COMMIT was sent: if its answer was lost, the ledger knows the outcome. */
  private volatile boolean deciding;

  private volatile boolean crashed;

  TwoPhaseCommit(JdbcConnector connector, JdbcDialect dialect, String ledger, String tableName) {
    this.connector = connector;
    this.dialect = dialect;
    this.prepared = dialect.preparedTransactions();
    this.ledger = ledger;
    this.tableName = tableName;
  }

  /** The start of every transaction id of the writing user in this schema. */
  String scopePrefix() {
    // 48 bits of SHA-256: on MariaDB every user sees (and may end) every prepared XA transaction
    // of the server, so scopes of different users and schemas must not collide.
    try {
      byte[] h =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(ledger.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return PREFIX + java.util.HexFormat.of().formatHex(h, 0, 6) + "_";
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The start of every transaction id of one write. */
  String writePrefix(long startEpochSeconds, String writeId) {
    return scopePrefix()
        + startEpochSeconds
        + "_"
        + writeId.replace("-", "").substring(0, 8).toLowerCase(java.util.Locale.ROOT)
        + "_";
  }

  static String gid(String writePrefix, int partitionId, long taskId) {
    return writePrefix + partitionId + "_" + taskId;
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000 + clockOffsetSecondsForTests;
  }

  /** Fails, before any task runs, when the server cannot hold the write's transactions now. */
  void requireCapacity(int partitions) {
    try (Connection c = connector.open()) {
      String reason = prepared.capacityProblem(c, partitions);
      if (reason != null) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_WRITE_MODE,
            "commit=two-phase into " + tableName + " is not possible now: " + reason);
      }
    } catch (SQLException e) {
      throw connector.sqlFailed("Checking two-phase commit for " + tableName, "", e);
    }
  }

  /** Fails, before any task runs, when the server cannot prepare transactions. */
  void requireAvailable() {
    try (Connection c = connector.open()) {
      String reason = prepared.unavailableReason(c);
      if (reason != null) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_WRITE_MODE,
            "commit=two-phase into "
                + tableName
                + " is not possible: "
                + reason
                + "; or use commit=atomic. Nothing was written");
      }
      // The lock row: inserted once; the decision transaction only updates it.
      try (PreparedStatement ps = c.prepareStatement(dialect.findLedgerRow(ledger))) {
        ps.setString(1, LOCK_ROW);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(dialect.insertLedgerRow(ledger))) {
        ps.setString(1, LOCK_ROW);
        ps.setString(2, "");
        ps.setLong(3, System.currentTimeMillis());
        ps.executeUpdate();
      } catch (SQLException raced) {
        LOG.debug("tessera-jdbc: two-phase lock row inserted meanwhile: {}", raced.getMessage());
      }
    } catch (SQLException e) {
      throw connector.sqlFailed("Checking two-phase commit for " + tableName, "", e);
    }
  }

  /**
   * Commits the chosen attempts' prepared transactions (all, or, should the driver die midway, the
   * rest by the next write or cleanup), then rolls back every other one of the write.
   */
  void commit(String writePrefix, List<String> chosen) {
    long start = System.nanoTime();
    if (crashBeforeDecisionForTests) {
      crashBeforeDecisionForTests = false;
      crashed = true;
      throw new IllegalStateException("injected: the driver crashes before its decision");
    }
    try (Connection c = connector.open()) {
      if (chosen.isEmpty()) {
        c.setAutoCommit(true);
        endOthers(c, writePrefix, Set.of());
        return;
      }
      recordDecision(c, writePrefix, chosen);
      long recorded = System.nanoTime();
      if (dieAfterDecisionForTests) {
        dieAfterDecisionForTests = false;
        throw new IllegalStateException("injected: the driver dies after recording its decision");
      }
      c.setAutoCommit(true);
      for (String gid : chosen) {
        try {
          commitOne(c, gid);
        } catch (SQLException e) {
          throw new TesseraException(
              TesseraError.COMMIT_OUTCOME_UNKNOWN,
              "Committing the prepared transaction "
                  + gid
                  + " of the write into "
                  + tableName
                  + " failed: "
                  + connector.redact(JdbcConnector.describe(e))
                  + ". The decision is recorded in "
                  + ledger
                  + ": the next two-phase write into the schema, or CALL <catalog>.system.cleanup,"
                  + " commits the rest; do not re-run the job",
              connector.redactThrowable(e));
        }
      }
      long committed = System.nanoTime();
      endOthers(c, writePrefix, new HashSet<>(chosen));
      deleteCarriedOut(c, writePrefix, chosen);
      LOG.info(
          "tessera-jdbc: {} prepared transactions committed into {} in {} ms (decision {} ms,"
              + " commit {} ms)",
          chosen.size(),
          tableName,
          (System.nanoTime() - start) / 1_000_000L,
          (recorded - start) / 1_000_000L,
          (committed - recorded) / 1_000_000L);
    } catch (SQLException e) {
      if (decided) {
        throw new TesseraException(
            TesseraError.COMMIT_OUTCOME_UNKNOWN,
            "The write into "
                + tableName
                + " failed after its decision was recorded in "
                + ledger
                + " ("
                + connector.redact(JdbcConnector.describe(e))
                + "): the next two-phase write into the schema, or CALL"
                + " <catalog>.system.cleanup, commits it; do not re-run the job",
            connector.redactThrowable(e));
      }
      throw connector.sqlFailed("Committing the two-phase write into " + tableName, "", e);
    }
  }

  /**
   * Commits one decided transaction. "Unknown" or "busy" can mean that another session (a recovery)
   * is committing or has committed it, or, on MariaDB, that its task's session has not yet ended on
   * the server: while it is still listed as prepared, wait and try again.
   */
  private void commitOne(Connection c, String gid) throws SQLException {
    for (int attempt = 0; ; attempt++) {
      try {
        prepared.commit(c, gid);
        return;
      } catch (SQLException e) {
        if (!prepared.isUnknownOrBusy(e)) {
          throw e;
        }
        String writePrefix = gid.substring(0, gid.lastIndexOf('_', gid.lastIndexOf('_') - 1) + 1);
        if (!prepared.list(c, writePrefix).contains(gid)) {
          return; // decided transactions are never rolled back: it was committed
        }
        if (attempt >= 100) {
          throw e;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Deletes the decisions of {@code gids} that are carried out (no longer prepared). */
  private void deleteCarriedOut(Connection c, String writePrefix, List<String> gids) {
    try {
      Set<String> still = new HashSet<>(prepared.list(c, writePrefix));
      deleteDecision(c, gids.stream().filter(g -> !still.contains(g)).toList());
    } catch (SQLException e) {
      LOG.warn(
          "tessera-jdbc: the write into {} is committed, but checking its decision in {} failed"
              + " ({}); the next write or cleanup deletes it",
          tableName,
          ledger,
          connector.redact(e.getMessage()));
    }
  }

  /**
   * In one transaction under the lock row: every chosen transaction must still be prepared (a
   * cleanup may have rolled back an old one), then one ledger row per chosen id.
   */
  private void recordDecision(Connection c, String writePrefix, List<String> chosen)
      throws SQLException {
    c.setAutoCommit(false);
    try {
      lock(c);
      Set<String> open = new HashSet<>(prepared.list(c, writePrefix));
      List<String> missing = chosen.stream().filter(g -> !open.contains(g)).toList();
      if (!missing.isEmpty()) {
        c.rollback();
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "The write into "
                + tableName
                + " is not committed (none of its rows are visible): "
                + missing.size()
                + " of its tasks' prepared transactions are gone ("
                + missing.subList(0, Math.min(5, missing.size()))
                + "), rolled back by CALL <catalog>.system.cleanup or by hand. Use a cleanup"
                + " threshold longer than your longest write");
      }
      try (PreparedStatement ps = c.prepareStatement(dialect.insertLedgerRow(ledger))) {
        long now = System.currentTimeMillis();
        for (String gid : chosen) {
          ps.setString(1, gid);
          ps.setString(2, tableName);
          ps.setLong(3, now);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      deciding = true;
      c.commit();
      decided = true;
    } catch (SQLException | RuntimeException e) {
      JdbcConnector.rollbackQuietly(c);
      throw e;
    }
  }

  private void lock(Connection c) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + ledger
                + " SET "
                + dialect.quote("committed_at_ms")
                + " = ? WHERE "
                + dialect.quote("write_id")
                + " = ?")) {
      ps.setLong(1, System.currentTimeMillis());
      ps.setString(2, LOCK_ROW);
      if (ps.executeUpdate() != 1) {
        throw new SQLException("the two-phase lock row of " + ledger + " is missing");
      }
    }
  }

  /** Rolls back the write's prepared transactions other than {@code keep}; best effort. */
  private void endOthers(Connection c, String writePrefix, Set<String> keep) {
    try {
      for (String gid : prepared.list(c, writePrefix)) {
        if (!keep.contains(gid)) {
          rollbackQuietly(c, gid);
        }
      }
    } catch (SQLException e) {
      LOG.warn(
          "tessera-jdbc: listing the prepared transactions of the write into {} failed ({});"
              + " CALL <catalog>.system.cleanup rolls back those left",
          tableName,
          connector.redact(e.getMessage()));
    }
  }

  private void rollbackQuietly(Connection c, String gid) {
    try {
      prepared.rollback(c, gid);
    } catch (SQLException e) {
      if (!prepared.isUnknownOrBusy(e)) {
        LOG.warn(
            "tessera-jdbc: rolling back prepared transaction {} failed ({}); CALL"
                + " <catalog>.system.cleanup rolls it back",
            gid,
            connector.redact(e.getMessage()));
      }
    }
  }

  private void deleteDecision(Connection c, List<String> gids) {
    try (PreparedStatement ps = c.prepareStatement(dialect.deleteLedgerRow(ledger))) {
      for (String gid : gids) {
        ps.setString(1, gid);
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      LOG.warn(
          "tessera-jdbc: the write into {} is committed, but deleting its decision from {}"
              + " failed ({}); the next write or cleanup deletes it",
          tableName,
          ledger,
          connector.redact(e.getMessage()));
    }
  }

  /** Rolls back every prepared transaction of a write that failed before its decision. */
  void abort(String writePrefix) {
    if (crashed) {
      return; // a crashed driver rolls back nothing
    }
    if (decided) {
      LOG.warn(
          "tessera-jdbc: the write into {} failed after its decision was recorded in {}; the"
              + " next two-phase write into the schema or CALL <catalog>.system.cleanup commits"
              + " it",
          tableName,
          ledger);
      return;
    }
    try (Connection c = connector.open()) {
      c.setAutoCommit(true);
      if (deciding) {
        // The decision's COMMIT may have succeeded without its answer: look before rolling back.
        Set<String> recorded = decisions(c, writePrefix);
        if (!recorded.isEmpty()) {
          LOG.warn(
              "tessera-jdbc: the write into {} failed, but its decision is recorded in {}; the"
                  + " next two-phase write into the schema or CALL <catalog>.system.cleanup"
                  + " commits it",
              tableName,
              ledger);
          return;
        }
      }
      endOthers(c, writePrefix, Set.of());
    } catch (SQLException e) {
      LOG.warn(
          "tessera-jdbc: rolling back the prepared transactions of the failed write into {}"
              + " failed ({}); CALL <catalog>.system.cleanup rolls them back",
          tableName,
          connector.redact(e.getMessage()));
    }
  }

  /**
   * Commits every prepared transaction of the scope whose decision the ledger holds, deletes
   * decisions whose transactions are gone, and, when {@code undecidedBefore} is not null, rolls
   * back undecided ones of writes that started before that epoch second. Returns what it did, one
   * line per transaction.
   */
  List<String> recover(Long undecidedBefore) {
    List<String> done = new ArrayList<>();
    try (Connection c = connector.open()) {
      c.setAutoCommit(true);
      String scope = scopePrefix();
      List<String> open = prepared.list(c, scope);
      Set<String> decisions = decisions(c, scope);
      for (String gid : open) {
        if (decisions.contains(gid)) {
          try {
            prepared.commit(c, gid);
            done.add(gid + " committed");
          } catch (SQLException e) {
            if (!prepared.isUnknownOrBusy(e)) {
              throw e;
            }
            // its own driver is committing it (or just did): decided ones are never rolled back
          }
        }
      }
      if (!decisions.isEmpty()) {
        // A decision whose transaction is no longer prepared was carried out: drop it. One whose
        // transaction is still prepared stays (its driver may be committing it right now).
        Set<String> stillOpen = new HashSet<>(prepared.list(c, scope));
        List<String> carriedOut = decisions.stream().filter(g -> !stillOpen.contains(g)).toList();
        if (!carriedOut.isEmpty()) {
          deleteDecision(c, carriedOut);
        }
      }
      if (undecidedBefore != null) {
        List<String> old = new ArrayList<>();
        for (String gid : open) {
          Long started = startOf(gid, scope);
          if (!decisions.contains(gid) && started != null && started < undecidedBefore) {
            old.add(gid);
          }
        }
        if (!old.isEmpty()) {
          rollBackUndecided(c, old, done);
        }
      }
    } catch (SQLException e) {
      throw connector.sqlFailed("Completing two-phase writes of " + ledger, "", e);
    }
    if (!done.isEmpty()) {
      LOG.warn("tessera-jdbc: completed prepared transactions of earlier writes: {}", done);
    }
    return done;
  }

  /** Under the lock row: no decision can be recorded for them while they are rolled back. */
  private void rollBackUndecided(Connection c, List<String> gids, List<String> done)
      throws SQLException {
    try (Connection locking = connector.open()) {
      locking.setAutoCommit(false);
      lock(locking);
      Set<String> decided = decisions(locking, scopePrefix());
      for (String gid : gids) {
        if (!decided.contains(gid)) {
          rollbackQuietly(c, gid);
          done.add(gid + " rolled back");
        }
      }
      locking.commit();
    }
  }

  private Set<String> decisions(Connection c, String scope) throws SQLException {
    Set<String> out = new HashSet<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + dialect.quote("write_id")
                + " FROM "
                + ledger
                + " WHERE "
                + dialect.quote("write_id")
                + " LIKE ?")) {
      ps.setString(1, PREFIX + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          if (id.startsWith(scope)) {
            out.add(id);
          }
        }
      }
    }
    return out;
  }

  /** The write's start encoded in a transaction id of the scope, or null. */
  static Long startOf(String gid, String scope) {
    if (!gid.startsWith(scope)) {
      return null;
    }
    String rest = gid.substring(scope.length());
    int sep = rest.indexOf('_');
    try {
      return Long.parseLong(sep < 0 ? rest : rest.substring(0, sep));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
