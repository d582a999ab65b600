package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.jdbc.dialect.JdbcDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's publish of an atomic write: ONE transaction that locks the target against other
 * writers, deletes the rows the write replaces ({@link ReplacedRows}), copies in the rows of the
 * attempts Spark committed, checks their count, records the write id in the ledger and commits. Why
 * it is atomic: every change is in that transaction; before COMMIT readers see the old rows, after
 * it all of the write. Why a lost COMMIT answer is never guessed: the ledger row commits or rolls
 * back with the data, and is looked up after taking the same lock.
 */
final class AtomicPublish {
  private static final Logger LOG = LoggerFactory.getLogger(AtomicPublish.class);

  /** How long deleting the ledger row after a committed write may wait for the network. */
  private static final int LEDGER_DELETE_TIMEOUT_MILLIS = 30_000;

  /** How long the lookup of a lost COMMIT waits for the old transaction's lock. */
  private static final int RESOLVE_LOCK_TIMEOUT_SECONDS = 120;

  private final JdbcTable table;
  private final StructType schema;
  private final JdbcDialect dialect;
  private final JdbcConnector connector;
  private final String target;
  private final String staging;
  private final String ledger;
  private final String writeId;
  private final ReplacedRows replaced;
  private final UpsertedRows upserted;
  private final DeltaRows delta;
  private final Epoch epoch;
  private long replacedRows;

  /**
   * A streaming epoch: the query's ledger key ({@link JdbcDialect#streamLedgerKey}) and the epoch.
   * Its ledger row keeps the query's last committed epoch and is never deleted.
   */
  record Epoch(String ledgerKey, long id) {}

  /** See {@link JdbcTestHooks#beforeNextPublish}. */
  static final java.util.concurrent.atomic.AtomicReference<Runnable> beforeNextPublish =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** False while a COMMIT's outcome is unknown: the staging table must then stay. */
  private boolean outcomeKnown = true;

  AtomicPublish(
      JdbcTable table,
      StructType schema,
      JdbcConnector connector,
      String staging,
      String ledger,
      String writeId,
      ReplacedRows replaced,
      UpsertedRows upserted,
      DeltaRows delta,
      Epoch epoch) {
    this.table = table;
    this.schema = schema;
    this.dialect = table.dialect();
    this.connector = connector;
    this.target = table.qualifiedName();
    this.staging = staging;
    this.ledger = ledger;
    this.writeId = writeId;
    this.replaced = replaced;
    this.upserted = upserted;
    this.delta = delta;
    this.epoch = epoch;
  }

  /** The rows the publish deleted because the write replaces them. */
  long replacedRows() {
    return replacedRows;
  }

  boolean outcomeKnown() {
    return outcomeKnown;
  }

  /**
   * One transaction: apply the mode, copy the committed attempts' rows, check that every row the
   * tasks reported is there (an UNLOGGED staging table is emptied by a PostgreSQL crash), commit.
   */
  /**
   * @return false when the write is a streaming epoch that the ledger shows committed already (a
   *     replay after a crash between the database's COMMIT and Spark's commit log): nothing is
   *     published again
   */
  boolean publish(List<List<Long>> attemptChunks, long expectedRows) {
    Runnable hook = beforeNextPublish.getAndSet(null);
    if (hook != null) {
      hook.run();
    }
    Connection c = connector.open();
    boolean published = false;
    String sql = "";
    try {
      dialect.preparePublishSession(c);
      c.setAutoCommit(false);
      if (dialect.publishIsolation() != null) {
        c.setTransactionIsolation(dialect.publishIsolation());
      }
      sql = dialect.lockTarget(table.schemaName(), target, replaced.replacesRows());
      lock(c, sql);
      Long lastEpoch = null;
      if (epoch != null) {
        sql = dialect.findEpoch(ledger);
        lastEpoch = lastEpoch(c);
        if (lastEpoch != null && lastEpoch > epoch.id()) {
          // Spark replays only its latest epoch: an older one means this checkpoint is behind
          // the table (restored from a backup, or copied from another query). Skipping would
          // silently drop rows, writing could duplicate them.
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "Streaming query "
                  + epoch.ledgerKey()
                  + " is publishing epoch "
                  + epoch.id()
                  + " into "
                  + table.name()
                  + ", but the ledger "
                  + ledger
                  + " shows epoch "
                  + lastEpoch
                  + " committed already: the checkpoint is older than the table (restored from a"
                  + " backup, or copied from another query?). Nothing was written. Restart from"
                  + " the checkpoint that wrote epoch "
                  + lastEpoch
                  + ", or, to write into the table from this checkpoint anyway, delete the row"
                  + " whose write_id is '"
                  + epoch.ledgerKey()
                  + "' from "
                  + ledger);
        }
        if (lastEpoch != null && lastEpoch == epoch.id()) {
          c.rollback();
          LOG.warn(
              "tessera-jdbc: epoch {} of streaming query {} into {} is in the ledger {} already"
                  + " (its last committed epoch is {}): skipped, not written again",
              epoch.id(),
              epoch.ledgerKey(),
              table.name(),
              ledger,
              lastEpoch);
          return false;
        }
      }
      replacedRows = 0;
      for (SqlStatement s : replaced.statements(c, attemptChunks)) {
        sql = s.sql();
        replacedRows += s.run(c);
      }
      String columns =
          Arrays.stream(schema.fieldNames()).map(dialect::quote).collect(Collectors.joining(", "));
      long inserted = 0;
      if (upserted != null) {
        sql = "upsert from " + staging;
        inserted = upserted.apply(c, attemptChunks);
      } else if (delta != null) {
        sql = "row-level changes from " + staging;
        inserted = delta.apply(c, attemptChunks);
      }
      for (List<Long> chunk :
          upserted != null || delta != null ? List.<List<Long>>of() : attemptChunks) {
        sql =
            "INSERT INTO "
                + target
                + " ("
                + columns
                + ") SELECT "
                + columns
                + " FROM "
                + staging
                + " WHERE "
                + replaced.attemptIn(chunk.size());
        inserted += new SqlStatement(sql, new ArrayList<>(chunk)).run(c);
      }
      if (inserted != expectedRows) {
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "Publishing into "
                + table.name()
                + " found "
                + inserted
                + " staged rows but the tasks reported "
                + expectedRows
                + " (was the staging table "
                + staging
                + " emptied, e.g. by a database restart?); rolled back, the table is unchanged");
      }
      recordInLedger(c, lastEpoch);
      sql = "COMMIT";
      try {
        c.commit();
        published = true;
        if (epoch == null) {
          forgetLedgerRow(c);
        }
      } catch (SQLException e) {
        published = resolveUnconfirmedCommit(e);
        if (!published) {
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "The connection broke during the COMMIT of the write into "
                  + table.name()
                  + " and the ledger shows it did not commit: the table is unchanged; run the"
                  + " write again ("
                  + connector.redact(JdbcConnector.describe(e))
                  + ")",
              connector.redactThrowable(e));
        }
      }
      return true;
    } catch (SQLException e) {
      JdbcConnector.rollbackQuietly(c);
      throw new TesseraException(
          TesseraError.COMMIT_FAILED,
          "Publishing the write into "
              + table.name()
              + " failed and was rolled back; the table is unchanged: "
              + connector.redact(JdbcConnector.describe(e))
              + " [SQL: "
              + sql
              + "]",
          connector.redactThrowable(e));
    } catch (RuntimeException e) {
      if (!published) {
        JdbcConnector.rollbackQuietly(c);
      }
      throw e;
    } finally {
      try {
        c.close();
      } catch (SQLException e) {
        LOG.warn(
            "tessera-jdbc: closing the commit connection failed: {}",
            connector.redact(e.getMessage()));
      }
    }
  }

  /**
   * In the publish transaction: a batch write inserts its write id (deleted again once the outcome
   * is known); a streaming epoch moves its query's one row to this epoch, or inserts it for the
   * query's first. The row's primary key and the update's {@code epoch < ?} make a second run of
   * the same epoch, racing this one, fail instead of publishing twice.
   */
  private void recordInLedger(Connection c, Long lastEpoch) throws SQLException {
    long now = System.currentTimeMillis();
    if (epoch == null) {
      new SqlStatement(dialect.insertLedgerRow(ledger), List.of(writeId, table.tableName(), now))
          .run(c);
    } else if (lastEpoch == null) {
      new SqlStatement(
              dialect.insertEpochRow(ledger),
              List.of(epoch.ledgerKey(), table.tableName(), now, epoch.id()))
          .run(c);
    } else if (new SqlStatement(
                dialect.advanceEpochRow(ledger),
                List.of(epoch.id(), now, epoch.ledgerKey(), epoch.id()))
            .run(c)
        != 1) {
      throw new SQLException(
          "another run of streaming query "
              + epoch.ledgerKey()
              + " recorded epoch "
              + epoch.id()
              + " in "
              + ledger
              + " meanwhile");
    }
  }

  /** The query's last committed epoch in the ledger, or null before its first. */
  private Long lastEpoch(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(dialect.findEpoch(ledger))) {
      ps.setString(1, epoch.ledgerKey());
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        long last = rs.getLong(1);
        return rs.wasNull() ? null : last;
      }
    }
  }

  /**
   * The COMMIT was sent but its answer was lost. On a new connection, take the same write lock (so
   * the old transaction, if the server still runs it, has ended) and look the write id up in the
   * ledger: present means committed, absent means rolled back, both for certain. If even that
   * fails, the outcome stays unknown and the staging table is kept.
   */
  private boolean resolveUnconfirmedCommit(SQLException commitError) {
    LOG.warn(
        "tessera-jdbc: no answer to the COMMIT of write {} into {} ({}); looking it up in {}",
        writeId,
        table.name(),
        connector.redact(commitError.getMessage()),
        ledger);
    try (Connection c = connector.open()) {
      dialect.preparePublishSession(c);
      try (java.sql.Statement st = c.createStatement()) {
        // A partitioned-away old session can hold the lock for hours: give up and say unknown.
        st.execute(dialect.shortLockTimeout(RESOLVE_LOCK_TIMEOUT_SECONDS));
      }
      c.setAutoCommit(false);
      lock(c, dialect.lockForLookup(table.schemaName(), target, ledger));
      boolean committed;
      if (epoch != null) {
        Long last = lastEpoch(c);
        committed = last != null && last >= epoch.id();
      } else {
        try (PreparedStatement ps = c.prepareStatement(dialect.findLedgerRow(ledger))) {
          ps.setString(1, writeId);
          try (java.sql.ResultSet rs = ps.executeQuery()) {
            committed = rs.next();
          }
        }
      }
      c.rollback();
      if (committed && epoch == null) {
        forgetLedgerRow(c);
      }
      LOG.warn(
          "tessera-jdbc: the ledger shows write {} into {} {}",
          writeId,
          table.name(),
          committed ? "committed" : "rolled back");
      return committed;
    } catch (SQLException | RuntimeException e) {
      outcomeKnown = false;
      TesseraException unknown =
          new TesseraException(
              TesseraError.COMMIT_OUTCOME_UNKNOWN,
              "The database did not confirm the commit of the write into "
                  + table.name()
                  + " and the ledger could not be read: "
                  + connector.redact(e.getMessage())
                  + (epoch == null
                      ? ". Look for write id '" + writeId + "' in " + ledger + ": present means"
                      : ". Look up write_id '"
                          + epoch.ledgerKey()
                          + "' in "
                          + ledger
                          + ": an epoch of "
                          + epoch.id()
                          + " or more means")
                  + " the write committed; the staging table "
                  + staging
                  + " is kept until you know",
              connector.redactThrowable(commitError));
      throw unknown;
    }
  }

  /**
   * The outcome is known to this writer, so its ledger row has served its purpose: delete it, in a
   * transaction of its own. A failure here changes nothing about the write; the row then stays (a
   * few bytes) and says, truthfully, that the write committed.
   */
  private void forgetLedgerRow(Connection c) {
    try {
      try {
        // The write has committed: a network cut now must not hang the job for good.
        c.setNetworkTimeout(Runnable::run, LEDGER_DELETE_TIMEOUT_MILLIS);
      } catch (SQLException | UnsupportedOperationException notSupported) {
        // the statement then waits as any other would
      }
      new SqlStatement(dialect.deleteLedgerRow(ledger), List.of(writeId)).run(c);
      c.commit();
    } catch (SQLException | RuntimeException e) {
      JdbcConnector.rollbackQuietly(c);
      LOG.warn(
          "tessera-jdbc: the write {} into {} committed; deleting its row of {} failed ({}), so"
              + " the row may stay",
          writeId,
          table.name(),
          ledger,
          connector.redact(e.getMessage()));
    }
  }

  private void lock(Connection c, String sql) throws SQLException {
    if (dialect.locksTableItself()) {
      new SqlStatement(sql, List.of()).run(c);
    } else if (new SqlStatement(sql, List.of(table.tableName())).run(c) != 1) {
      throw new SQLException(
          "the row of "
              + table.tableName()
              + " in Tessera's lock table "
              + JdbcDialect.LOCK_TABLE
              + " is missing (was it deleted?)");
    }
  }
}
