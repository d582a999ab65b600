package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import io.tessera.jdbc.dialect.JdbcDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver side of one batch write.
 *
 * <p><b>commit=atomic</b> (default): before any task runs, an empty staging table with the target's
 * column types is created. Tasks load it, each row tagged with its task attempt, and commit their
 * own transactions. {@link #commit} then runs ONE database transaction ({@link AtomicPublish}) that
 * deletes the rows the write replaces ({@link ReplacedRows}) and copies in only the rows of the
 * attempts Spark reported as committed. Readers see the old table until that transaction commits
 * and the whole new state after it; retried or speculative attempts never publish twice because
 * their rows carry other attempt ids. The staging table is dropped afterwards and by {@link
 * #abort}; dropping it never touches the target, so abort is always safe.
 *
 * <p><b>commit=direct</b>: tasks insert into the target and commit themselves; a failed job leaves
 * the committed tasks' rows behind (append only, documented as non-atomic).
 */
final class JdbcBatchWrite implements BatchWrite {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcBatchWrite.class);

  /** How long dropping a staging table may wait for a lock. */
  private static final int DROP_LOCK_TIMEOUT_SECONDS = 5;

  /** Attempt ids bound per statement: far below every database's parameter limit. */
  private static final int ATTEMPTS_PER_STATEMENT = 1000;

  private final JdbcTable table;
  private final StructType schema;
  private final ParsedOptions options;
  private final WriteMode mode;
  private final List<String> partitionKeys;
  private final AtomicLong commitMillis;
  private final boolean atomic;
  private final boolean twoPhase;
  private TwoPhaseCommit twoPhaseCommit;
  private String twoPhasePrefix;
  private final JdbcDialect dialect;
  private final JdbcConnector connector;
  private final String target;
  private final String staging;
  private final String stagingName;
  private final String writeId = UUID.randomUUID().toString();

  /** The writing user's ledger, qualified; known once the factory is created. */
  private String ledger;

  /** Set for a streaming micro-batch, whose ledger row is updated from epoch to epoch. */
  private boolean streaming;

  /** Marks this write as one micro-batch of a streaming query; before the writer factory. */
  JdbcBatchWrite streaming(String queryId) {
    this.streaming = true;
    this.queryId = queryId;
    return this;
  }

  private String queryId;

  /**
   * Set when the publish's COMMIT outcome could not be learned: Spark then calls {@link #abort},
   * which must keep the staging table (it may hold the only copy of rows that did not commit).
   */
  private volatile boolean outcomeUnknown;

  JdbcBatchWrite(
      JdbcTable table,
      LogicalWriteInfo info,
      ParsedOptions options,
      WriteMode mode,
      List<String> partitionKeys,
      AtomicLong commitMillis) {
    this(
        table,
        // A row-level write's rows are whole table rows (a DELETE's write schema is empty).
        mode instanceof WriteMode.RowLevel
            ? JdbcDialect.withPlainStrings(table.schema())
            : JdbcDialect.withPlainStrings(info.schema(), table.schema()),
        options,
        mode,
        partitionKeys,
        commitMillis);
  }

  JdbcBatchWrite(
      JdbcTable table,
      StructType schema,
      ParsedOptions options,
      WriteMode mode,
      List<String> partitionKeys,
      AtomicLong commitMillis) {
    this.table = table;
    this.schema = schema;
    this.options = options;
    this.mode = mode;
    this.partitionKeys = partitionKeys;
    this.commitMillis = commitMillis;
    this.atomic = options.get(JdbcWriteOptions.COMMIT) == JdbcWriteOptions.CommitMode.ATOMIC;
    this.twoPhase = options.get(JdbcWriteOptions.COMMIT) == JdbcWriteOptions.CommitMode.TWO_PHASE;
    this.dialect = table.dialect();
    this.connector = new JdbcConnector(options);
    this.target = table.qualifiedName();
    this.stagingName =
        JdbcDialect.stagingTableName(
            System.currentTimeMillis() / 1000,
            UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    this.staging = dialect.qualified(table.schemaName(), stagingName);
  }

  /**
   * Streaming queries (of this driver JVM) whose first micro-batch checked the privileges and
   * prepared the ledger and lock, with the database user they found: later micro-batches skip those
   * round trips (a privilege revoked meanwhile then fails the publish, which rolls back).
   */
  private static final Map<String, String> PREPARED_STREAMS =
      new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public DataWriterFactory createBatchWriterFactory(PhysicalWriteInfo info) {
    int batchSize = options.get(JdbcWriteOptions.BATCH_SIZE);
    String streamKey =
        streaming
            ? String.join(
                "|",
                queryId,
                connector.url(),
                String.valueOf(connector.user()),
                target,
                mode.describe())
            : null;
    String preparedUser = streamKey == null ? null : PREPARED_STREAMS.get(streamKey);
    WritePrivileges privileges =
        preparedUser != null
            ? new WritePrivileges(dialect, connector, table.name(), preparedUser)
            : checkTargetPrivileges();
    if (twoPhase) {
      ledger =
          dialect.qualified(table.schemaName(), JdbcDialect.ledgerTableName(privileges.user()));
      prepareLock(privileges);
      twoPhaseCommit = new TwoPhaseCommit(connector, dialect, ledger, table.name());
      twoPhaseCommit.requireAvailable();
      // Finish what an earlier two-phase write of this user into the schema decided (and roll
      // back what a write that started over a day ago left undecided) before counting capacity.
      twoPhaseCommit.recover(TwoPhaseCommit.nowSeconds() - TwoPhaseCommit.UNDECIDED_LIMIT_SECONDS);
      twoPhaseCommit.requireCapacity(info.numPartitions());
      twoPhasePrefix = twoPhaseCommit.writePrefix(TwoPhaseCommit.nowSeconds(), writeId);
      LOG.info(
          "tessera-jdbc: {} tasks will load {} and prepare their transactions ({}*)",
          info.numPartitions(),
          table.name(),
          twoPhasePrefix);
      return new JdbcWriterFactory(
              connector, dialect, target, schema, batchSize, false, List.of(), table.name())
          .twoPhase(twoPhasePrefix);
    }
    if (!atomic) {
      return new JdbcWriterFactory(
          connector, dialect, target, schema, batchSize, false, List.of(), table.name());
    }
    ledger = dialect.qualified(table.schemaName(), JdbcDialect.ledgerTableName(privileges.user()));
    if (preparedUser == null) {
      prepareLock(privileges);
    }
    createStaging(privileges);
    if (preparedUser == null) {
      checkStaging(privileges);
    }
    if (streamKey != null) {
      PREPARED_STREAMS.put(streamKey, privileges.user());
    }
    LOG.info(
        "tessera-jdbc: {} tasks will stage rows for {} in {}",
        info.numPartitions(),
        table.name(),
        staging);
    return new JdbcWriterFactory(
        connector,
        dialect,
        staging,
        mode instanceof WriteMode.RowLevel ? stagedDeltaSchema() : schema,
        batchSize,
        true,
        mode instanceof WriteMode.Upsert u ? u.keys() : List.of(),
        table.name());
  }

  /**
   * The staged rows of a row-level write: the table's columns (a delete fills only the key), the
   * kind of change and the version of the row the scan read.
   */
  StructType stagedDeltaSchema() {
    return schema
        .add(JdbcDialect.OPERATION_COLUMN, org.apache.spark.sql.types.DataTypes.IntegerType, true)
        .add(JdbcDialect.ROW_VERSION_COLUMN, dialect.rowVersionType(), true);
  }

  /**
   * {@code DELETE FROM t WHERE <condition>} with a condition that translates to SQL: one DELETE in
   * the publish transaction (write lock, ledger, lost-COMMIT lookup as for any atomic write), no
   * staging table and no task.
   *
   * @return the number of rows deleted
   */
  long deleteWhere() {
    long start = System.nanoTime();
    WritePrivileges privileges = checkTargetPrivileges();
    ledger = dialect.qualified(table.schemaName(), JdbcDialect.ledgerTableName(privileges.user()));
    prepareLock(privileges);
    AtomicPublish publish = newPublish(null);
    publish.publish(List.of(), 0);
    commitMillis.set(elapsedMillis(start));
    LOG.info(
        "tessera-jdbc: deleted {} rows of {} ({}) in {} ms",
        publish.replacedRows(),
        table.name(),
        mode.describe(),
        commitMillis.get());
    return publish.replacedRows();
  }

  /** What the publish of a row-level write changed, or null before it or for other writes. */
  DeltaRows deltaRows() {
    return deltaRows;
  }

  private DeltaRows deltaRows;

  private void checkStaging(WritePrivileges privileges) {
    try (Connection c = connector.open()) {
      // MariaDB gives a table's creator no privileges on it: it needs them on the database.
      privileges.requireOnNewTable(
          c,
          "INSERT",
          staging,
          JdbcDialect.ATTEMPT_COLUMN,
          "to load the staging table",
          table.schemaName());
    } catch (SQLException | RuntimeException e) {
      dropStaging(); // Spark calls no abort for a failure before the tasks
      throw e instanceof SQLException s
          ? connector.sqlFailed("Checking the staging table of " + table.name(), "", s)
          : (RuntimeException) e;
    }
  }

  /**
   * Before anything is created: the target privileges the write needs, each missing one reported
   * with the GRANT that gives it. SELECT because the staging table copies the target's column types
   * (and conditions read rows); DELETE for every mode that replaces rows.
   */
  private WritePrivileges checkTargetPrivileges() {
    try (Connection c = connector.open()) {
      WritePrivileges p =
          new WritePrivileges(
              dialect, connector, table.name(), WritePrivileges.currentUser(c, dialect));
      String column = schema.fieldNames().length > 0 ? schema.fieldNames()[0] : null;
      if (column != null && mode instanceof WriteMode.RowLevel r) {
        requireForRowLevel(p, c, column, r);
      } else if (column != null && deleteOnly) {
        p.require(c, "SELECT", target, column, "to find the rows to delete");
        p.require(c, "DELETE", target, column, "to delete the rows of " + mode.describe());
      } else if (column != null) {
        p.require(c, "INSERT", target, column, "to insert the new rows");
        if (atomic) {
          p.require(
              c, "SELECT", target, column, "to read its column types and the rows it replaces");
        }
        if (mode instanceof WriteMode.Upsert) {
          p.require(c, "UPDATE", target, column, "to update the rows whose keys the write holds");
        } else if (replacesRows()) {
          p.require(
              c,
              "DELETE",
              target,
              column,
              "to delete the rows this " + mode.describe() + " replaces");
        }
      }
      return p;
    } catch (SQLException e) {
      throw connector.sqlFailed(
          "Reading the database user of the write into " + table.name(), "", e);
    }
  }

  /**
   * A DELETE, UPDATE or MERGE needs what its command may do; SELECT to check the rows' versions.
   */
  private void requireForRowLevel(
      WritePrivileges p, Connection c, String column, WriteMode.RowLevel r) throws SQLException {
    String what = "the " + r.command();
    p.require(
        c, "SELECT", target, column, "to check that the rows " + what + " read are unchanged");
    // A MERGE needs what its clauses do, which is not known here: the publish then fails (and
    // rolls back) on a missing privilege; so does an UPDATE that changes keys (delete + insert).
    if (r.command().equals("DELETE")) {
      p.require(c, "DELETE", target, column, "to delete the rows " + what + " deletes");
    } else if (r.command().equals("UPDATE")) {
      p.require(c, "UPDATE", target, column, "to update the rows " + what + " updates");
    }
  }

  /** Set for {@link #deleteWhere}, which inserts nothing. */
  private boolean deleteOnly;

  JdbcBatchWrite deleteOnly() {
    this.deleteOnly = true;
    return this;
  }

  private boolean replacesRows() {
    return !(mode instanceof WriteMode.Append);
  }

  /**
   * Creates the staging table the first way the server accepts (see {@link
   * JdbcDialect#createStagingTableChoices}). Spark does not call abort for a failure here, so a
   * half-made staging table is dropped here.
   */
  private void createStaging(WritePrivileges privileges) {
    List<List<String>> choices =
        dialect.choosesStagingByServer()
            ? stagingChoicesOfTheServer()
            : List.of(dialect.createStagingTable(staging, target));
    RuntimeException refused = null;
    for (List<String> ddl : choices) {
      try {
        for (int attempt = 1; ; attempt++) {
          // A retry first drops what the timed-out try may have created (DDL commits itself).
          List<String> statements = new ArrayList<>();
          if (attempt > 1) {
            statements.add(dialect.dropTableIfExists(staging));
          }
          statements.addAll(ddl);
          if (mode instanceof WriteMode.RowLevel) {
            statements.add(dialect.addColumn(staging, JdbcDialect.OPERATION_COLUMN, "INTEGER"));
            statements.add(
                dialect.addColumn(
                    staging,
                    JdbcDialect.ROW_VERSION_COLUMN,
                    dialect.columnType(JdbcDialect.ROW_VERSION_COLUMN, dialect.rowVersionType())));
          }
          try {
            connector.execute(
                withDdlSettings(statements),
                (sql, e) ->
                    privileges.createRefused(
                        sql, e, table.schemaName(), "the staging table that collects the rows"));
            break;
          } catch (RuntimeException e) {
            if (attempt >= 8 || !dialect.isDdlLockTimeout(e)) {
              throw e;
            }
            LOG.info(
                "tessera-jdbc: creating the staging table of {} waited too long for a lock"
                    + " (attempt {}); trying again",
                table.name(),
                attempt);
            try {
              // Apart, so that two writes that timed out together do not meet again.
              Thread.sleep(
                  200L * attempt + java.util.concurrent.ThreadLocalRandom.current().nextLong(1000));
            } catch (InterruptedException interrupted) {
              Thread.currentThread().interrupt();
              throw e;
            }
          }
        }
        return;
      } catch (RuntimeException e) {
        dropStaging();
        if (e instanceof TesseraException t && t.error() == TesseraError.MISSING_PRIVILEGE) {
          throw e; // the next way would be refused alike
        }
        if (refused != null) {
          e.addSuppressed(refused);
        } else if (choices.size() > 1) {
          LOG.warn(
              "tessera-jdbc: the server refused the preferred staging table for {} ({}); trying"
                  + " the next way",
              table.name(),
              connector.redact(e.getMessage()));
        }
        refused = e;
      }
    }
    throw refused;
  }

  private List<List<String>> stagingChoicesOfTheServer() {
    try (Connection c = connector.open()) {
      return dialect.createStagingTableChoices(
          c, table.schemaName(), table.tableName(), staging, target);
    } catch (SQLException e) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.SQL_FAILED,
          "Preparing the staging table for "
              + table.name()
              + " failed: "
              + connector.redact(JdbcConnector.describe(e)),
          connector.redactThrowable(e));
    }
  }

  /**
   * Makes sure the publish can record itself in the user's ledger and take its lock (see {@link
   * JdbcDialect#lockTarget}), and that the user may use both.
   */
  private void prepareLock(WritePrivileges privileges) {
    String schemaName = table.schemaName();
    createIfMissing(
        dialect.prepareLedgerTable(ledger),
        privileges,
        "its ledger " + ledger + ", the first time");
    try (Connection c = connector.open()) {
      if (streaming) {
        addEpochColumnIfMissing(c);
        refuseEpochsOfAnotherUser(c, privileges);
      }
      // Created by this user, but MariaDB gives a creator no privileges of its own.
      for (String p :
          streaming || twoPhase
              ? List.of("INSERT", "SELECT", "DELETE", "UPDATE")
              : List.of("INSERT", "SELECT", "DELETE")) {
        privileges.require(c, p, ledger, "write_id", "to record the write in its ledger");
      }
    } catch (SQLException e) {
      throw connector.sqlFailed("Checking the ledger of the write into " + table.name(), "", e);
    }
    if (dialect.locksTableItself()) {
      return;
    }
    String locks = dialect.qualified(schemaName, JdbcDialect.LOCK_TABLE);
    dialect
        .prepareLockTable(schemaName)
        .forEach(
            ddl ->
                createIfMissing(
                    ddl,
                    privileges,
                    "the lock table " + locks + " that all writers share, the first time"));
    try (Connection c = connector.open()) {
      // Shared by every user who writes into the schema, whoever created it.
      for (String p : List.of("SELECT", "INSERT", "UPDATE")) {
        privileges.require(
            c, p, locks, "writes", "to queue behind other writers of the table in the lock table");
      }
      // Look before inserting: an INSERT of an existing row would wait for a running publish
      // that holds it.
      try (PreparedStatement ps = c.prepareStatement(dialect.findLockRow(schemaName))) {
        ps.setString(1, table.tableName());
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(dialect.insertLockRow(schemaName))) {
        ps.setString(1, table.tableName());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      // Another write inserted it meanwhile; the publish checks that it is there.
      LOG.debug("tessera-jdbc: lock row of {} not inserted: {}", table.name(), e.getMessage());
    }
  }

  /** A ledger made before streaming existed lacks the epoch column: add it, once. */
  private void addEpochColumnIfMissing(Connection c) throws SQLException {
    try (java.sql.Statement st = c.createStatement()) {
      st.setMaxRows(1);
      st.executeQuery(dialect.findEpoch(ledger).replace("= ?", "IS NULL AND 1 = 0")).close();
    } catch (SQLException missing) {
      JdbcConnector.rollbackQuietly(c);
      LOG.info("tessera-jdbc: adding column epoch to the ledger {}", ledger);
      connector.execute(withDdlSettings(List.of(dialect.addEpochColumn(ledger))));
    }
  }

  /**
   * The epochs of a streaming query are recorded in the ledger of the database user that wrote
   * them. A query restarted as another user would find nothing in its own ledger and publish its
   * last epoch again: look for the query in the other ledgers of the schema this user can read, and
   * refuse if another user recorded it. (On PostgreSQL other users' ledgers are private: there only
   * a superuser or the schema owner is checked this way; the README says to restart a query as the
   * same user.)
   */
  private void refuseEpochsOfAnotherUser(Connection c, WritePrivileges privileges)
      throws SQLException {
    String key = JdbcDialect.streamLedgerKey(queryId, target);
    String own = JdbcDialect.ledgerTableName(privileges.user());
    try (PreparedStatement mine = c.prepareStatement(dialect.findEpoch(ledger))) {
      mine.setString(1, key);
      try (java.sql.ResultSet rs = mine.executeQuery()) {
        if (rs.next()) {
          return; // this user's query
        }
      }
    }
    List<String> others = new ArrayList<>();
    java.sql.DatabaseMetaData md = c.getMetaData();
    try (java.sql.ResultSet rs =
        dialect.schemasAreCatalogs()
            ? md.getTables(table.schemaName(), null, "tessera%ledger%", null)
            : md.getTables(null, table.schemaName(), "tessera%ledger%", null)) {
      while (rs.next()) {
        String name = rs.getString("TABLE_NAME");
        if (JdbcDialect.isLedgerTableName(name) && !name.equals(own)) {
          others.add(name);
        }
      }
    }
    for (String other : others) {
      String qualified = dialect.qualified(table.schemaName(), other);
      try (Connection look = connector.open();
          PreparedStatement ps = look.prepareStatement(dialect.findEpoch(qualified))) {
        ps.setString(1, key);
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            throw new TesseraException(
                TesseraError.COMMIT_FAILED,
                "Streaming query "
                    + queryId
                    + " wrote its earlier epochs into "
                    + table.name()
                    + " as another database user (they are recorded in "
                    + qualified
                    + ", epoch "
                    + rs.getLong(1)
                    + "); restarted as '"
                    + privileges.user()
                    + "' it could publish its last epoch twice. Restart it as the user who"
                    + " started it; nothing was written");
          }
        }
      } catch (SQLException unreadable) {
        // another user's private ledger (or no epoch column yet): nothing to learn from it
      }
    }
  }

  /**
   * Runs a CREATE TABLE IF NOT EXISTS; two first writers racing can make PostgreSQL fail one of
   * them on its catalog's unique index, so a failure is retried once. A refusal for lack of a
   * privilege is reported as such at once.
   */
  private void createIfMissing(String ddl, WritePrivileges privileges, String what) {
    java.util.function.BiFunction<String, SQLException, RuntimeException> clearer =
        (sql, e) -> privileges.createRefused(sql, e, table.schemaName(), what);
    try {
      connector.execute(withDdlSettings(List.of(ddl)), clearer);
    } catch (TesseraException first) {
      if (first.error() == TesseraError.MISSING_PRIVILEGE) {
        throw first;
      }
      connector.execute(withDdlSettings(List.of(ddl)), clearer);
    }
  }

  private List<String> withDdlSettings(List<String> ddl) {
    List<String> out = new ArrayList<>(dialect.ddlSessionSettings());
    out.addAll(ddl);
    return out;
  }

  @Override
  public void commit(WriterCommitMessage[] messages) {
    publish(messages, null);
  }

  /**
   * Publishes a streaming epoch like a batch write, recording (query, epoch) in the same
   * transaction; an epoch the ledger holds already is skipped (see {@link AtomicPublish#publish}).
   */
  void commitEpoch(String queryId, long epochId, WriterCommitMessage[] messages) {
    publish(
        messages, new AtomicPublish.Epoch(JdbcDialect.streamLedgerKey(queryId, target), epochId));
  }

  private void publish(WriterCommitMessage[] messages, AtomicPublish.Epoch epoch) {
    long start = System.nanoTime();
    List<JdbcCommitMessage> committed = committedAttempts(messages);
    long rows = committed.stream().mapToLong(JdbcCommitMessage::rows).sum();
    if (twoPhase) {
      twoPhaseCommit.commit(
          twoPhasePrefix,
          committed.stream()
              .filter(m -> m.rows() > 0) // an empty task prepared nothing
              .map(m -> TwoPhaseCommit.gid(twoPhasePrefix, m.partitionId(), m.taskId()))
              .toList());
      commitMillis.set(elapsedMillis(start));
      LOG.info(
          "tessera-jdbc: {} rows appended to {} by {} tasks (two-phase) in {} ms",
          rows,
          table.name(),
          committed.size(),
          commitMillis.get());
      return;
    }
    if (!atomic) {
      commitMillis.set(elapsedMillis(start));
      LOG.info(
          "tessera-jdbc: {} rows appended to {} by {} tasks (direct)",
          rows,
          table.name(),
          committed.size());
      return;
    }
    AtomicPublish publish = newPublish(epoch);
    boolean published;
    try {
      published = publish.publish(chunks(committed), rows);
    } finally {
      if (publish.outcomeKnown()) {
        dropStaging();
      } else {
        outcomeUnknown = true;
      }
    }
    commitMillis.set(elapsedMillis(start));
    if (!published) {
      return;
    }
    LOG.info(
        "tessera-jdbc: published {} rows from {} tasks into {} ({}) in {} ms",
        rows,
        committed.size(),
        table.name(),
        mode.describe(),
        commitMillis.get());
  }

  private AtomicPublish newPublish(AtomicPublish.Epoch epoch) {
    if (mode instanceof WriteMode.RowLevel r) {
      deltaRows =
          new DeltaRows(
              table, schema, r, staging, options.get(JdbcWriteOptions.ALLOW_CASCADING_DELETES));
    }
    return new AtomicPublish(
        table,
        schema,
        connector,
        staging,
        ledger,
        writeId,
        new ReplacedRows(dialect, schema, mode, partitionKeys, target, staging),
        mode instanceof WriteMode.Upsert u
            ? new UpsertedRows(dialect, schema, u, target, staging, table.name())
            : null,
        deltaRows,
        epoch);
  }

  /**
   * The messages of committed attempts, one per partition. Spark's commit coordinator allows one
   * committed attempt per partition; should two ever arrive, only the first is published.
   */
  private static List<JdbcCommitMessage> committedAttempts(WriterCommitMessage[] messages) {
    Map<Integer, JdbcCommitMessage> byPartition = new LinkedHashMap<>();
    for (WriterCommitMessage m : messages) {
      if (m instanceof JdbcCommitMessage j && byPartition.putIfAbsent(j.partitionId(), j) != null) {
        LOG.warn(
            "tessera-jdbc: ignoring a second committed attempt {} of partition {}",
            j.taskId(),
            j.partitionId());
      }
    }
    return new ArrayList<>(byPartition.values());
  }

  private static List<List<Long>> chunks(List<JdbcCommitMessage> committed) {
    List<List<Long>> out = new ArrayList<>();
    for (int i = 0; i < committed.size(); i += ATTEMPTS_PER_STATEMENT) {
      out.add(
          committed.subList(i, Math.min(committed.size(), i + ATTEMPTS_PER_STATEMENT)).stream()
              .map(JdbcCommitMessage::taskId)
              .toList());
    }
    return out;
  }

  @Override
  public void abort(WriterCommitMessage[] messages) {
    if (twoPhase) {
      if (twoPhaseCommit != null) {
        twoPhaseCommit.abort(twoPhasePrefix);
      }
      LOG.warn("tessera-jdbc: two-phase write into {} aborted", table.name());
      return;
    }
    if (atomic && outcomeUnknown) {
      LOG.warn(
          "tessera-jdbc: write {} into {} aborted with its commit outcome unknown; keeping the"
              + " staging table {}",
          writeId,
          table.name(),
          staging);
    } else if (atomic) {
      dropStaging();
      LOG.warn("tessera-jdbc: write into {} aborted; the table is unchanged", table.name());
    } else {
      long rows = committedAttempts(messages).stream().mapToLong(JdbcCommitMessage::rows).sum();
      LOG.warn(
          "tessera-jdbc: direct write into {} aborted; {} rows of tasks that had committed remain"
              + " in the table (commit=direct is not atomic)",
          table.name(),
          rows);
    }
  }

  /**
   * Drops the staging table without waiting long for its locks (a reader or a still-running
   * speculative attempt may hold one): a published write must not hang on its own cleanup. A table
   * that cannot be dropped now is left to the cleanup procedure.
   */
  private void dropStaging() {
    try {
      connector.execute(
          List.of(
              dialect.shortLockTimeout(DROP_LOCK_TIMEOUT_SECONDS),
              dialect.dropTableIfExists(staging)));
    } catch (RuntimeException e) {
      LOG.warn(
          "tessera-jdbc: could not drop staging table {} ({}); it holds no published data and can"
              + " be dropped by hand or by cleanupStaging",
          staging,
          e.getMessage());
    }
  }

  private static long elapsedMillis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
