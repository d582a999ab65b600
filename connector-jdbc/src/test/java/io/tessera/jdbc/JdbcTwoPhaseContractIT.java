package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.jdbc.dialect.PreparedTransactions;
import java.sql.Connection;
import java.util.List;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * commit=two-phase on a real PostgreSQL and MariaDB: every case ends with the exact rows and no
 * prepared transaction of the schema's writer left behind.
 */
abstract class JdbcTwoPhaseContractIT extends JdbcSuite {

  /** Prepared transactions are a server setting: skipped locally, failed on CI, without it. */
  @org.junit.jupiter.api.BeforeEach
  void requirePreparedTransactions() throws Exception {
    try (Connection c = db.connect()) {
      String reason =
          io.tessera.jdbc.dialect.JdbcDialects.forUrl(db.url())
              .preparedTransactions()
              .unavailableReason(c);
      if (reason != null) {
        throw io.tessera.testing.RequiredService.unavailable(
            "two-phase commit on " + kind(), reason, "bash .ci/run sets it up");
      }
    }
  }

  @AfterEach
  void resetHooks() {
    TwoPhaseCommit.dieAfterDecisionForTests = false;
    TwoPhaseCommit.crashBeforeDecisionForTests = false;
    TwoPhaseCommit.clockOffsetSecondsForTests = 0;
  }

  JdbcTable jdbcTable(String name) throws Exception {
    JdbcCatalog cat = (JdbcCatalog) spark.sessionState().catalogManager().catalog(catalog);
    return (JdbcTable) cat.loadTable(Identifier.of(new String[] {db.schema()}, name));
  }

  /** The writing user's ledger table in the schema. */
  String ledgerName(JdbcTable t) throws Exception {
    try (Connection c = db.connect()) {
      return io.tessera.jdbc.dialect.JdbcDialect.ledgerTableName(
          WritePrivileges.currentUser(c, t.dialect()));
    }
  }

  /** The two-phase driver of this schema's writing user. */
  TwoPhaseCommit driver(String name) throws Exception {
    JdbcTable t = jdbcTable(name);
    String ledger = t.dialect().qualified(db.schema(), ledgerName(t));
    return new TwoPhaseCommit(t.connector(), t.dialect(), ledger, t.name());
  }

  List<String> cleanup() {
    return spark
        .sql("CALL " + catalog + ".system.cleanup(namespace => '" + db.schema() + "')")
        .collectAsList()
        .stream()
        .map(r -> r.getString(0))
        .toList();
  }

  /** The prepared transactions of this schema's writer. */
  List<String> prepared(String name) throws Exception {
    JdbcTable t = jdbcTable(name);
    PreparedTransactions pt = t.dialect().preparedTransactions();
    try (Connection c = db.connect()) {
      return pt.list(c, driver(name).scopePrefix());
    }
  }

  void twoPhase(org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> df, String t)
      throws Exception {
    df.writeTo(t).option("commit", "two-phase").append();
  }

  @Test
  void aTaskFailingOnItsFirstAttemptCommitsEachRowOnce() throws Exception {
    String t = createEvents("first", 10, "");
    twoPhase(
        events(10, 2000).selectExpr("fail_first_attempt(id, 1377L) as id", "day", "amount"), t);
    assertThat(rows(t)).isEqualTo(expected(0, 2000));
    assertThat(prepared("first")).isEmpty();
  }

  @Test
  void anAlwaysFailingJobLeavesTheTableAsItWas() throws Exception {
    String t = createEvents("failing", 10, "");
    assertThatThrownBy(
            () ->
                twoPhase(
                    events(10, 2000).selectExpr("fail_always(id, 1377L) as id", "day", "amount"),
                    t))
        .hasStackTraceContaining("injected failure, id 1377");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
    assertThat(prepared("failing")).isEmpty();
  }

  /**
   * Two attempts of one partition both load and prepare (as a speculative copy does); the rows wait
   * invisible until the driver commits the chosen attempt and rolls back the other.
   */
  @Test
  void whenBothAttemptsOfAPartitionPrepareOnlyTheChosenOneCommits() throws Exception {
    String t = createEvents("both", 0, "");
    events(0, 1).writeTo(t).option("commit", "two-phase").append(); // creates the ledger
    JdbcTable table = jdbcTable("both");
    TwoPhaseCommit driver = driver("both");
    String prefix =
        driver.writePrefix(TwoPhaseCommit.nowSeconds(), java.util.UUID.randomUUID().toString());
    StructType schema =
        new StructType()
            .add("id", DataTypes.LongType, false)
            .add("day", DataTypes.StringType)
            .add("amount", DataTypes.DoubleType);
    for (long attempt : new long[] {100, 101}) {
      JdbcDataWriter w =
          new JdbcDataWriter(
              table.connector(),
              table.dialect(),
              table.qualifiedName(),
              schema,
              1000,
              0,
              attempt,
              null,
              new String[0],
              table.name(),
              TwoPhaseCommit.gid(prefix, 0, attempt));
      for (long i = 1; i < 100; i++) {
        w.write(
            new GenericInternalRow(new Object[] {i, UTF8String.fromString("d" + i % 3), i * 1.5}));
      }
      w.commit();
      w.close();
    }
    assertThat(prepared("both")).hasSize(2);
    assertThat(rows(t)).as("prepared rows are invisible").isEqualTo(expected(0, 1));

    driver.commit(prefix, List.of(TwoPhaseCommit.gid(prefix, 0, 101)));
    assertThat(rows(t)).isEqualTo(expected(0, 100));
    assertThat(prepared("both")).as("the other attempt rolled back").isEmpty();
    assertThat(jdbcCount(ledgerName(table))).as("decision rows deleted: the lock row").isEqualTo(1);
  }

  @Test
  void aDriverThatDiesAfterItsDecisionIsCompletedByTheNextWrite() throws Exception {
    String t = createEvents("decided", 10, "");
    TwoPhaseCommit.dieAfterDecisionForTests = true;
    assertThatThrownBy(() -> twoPhase(events(10, 2000), t))
        .hasStackTraceContaining("injected: the driver dies after recording its decision");
    assertThat(rows(t)).as("nothing committed yet").isEqualTo(expected(0, 10));
    assertThat(prepared("decided")).as("the decided transactions wait").hasSize(4);

    twoPhase(events(2000, 2010), t);
    assertThat(rows(t)).isEqualTo(expected(0, 2010));
    assertThat(prepared("decided")).isEmpty();
  }

  @Test
  void cleanupCommitsDecidedAndRollsBackOldUndecidedTransactions() throws Exception {
    String t = createEvents("crash", 10, "");
    TwoPhaseCommit.dieAfterDecisionForTests = true;
    assertThatThrownBy(() -> twoPhase(events(10, 1000), t)).hasStackTraceContaining("injected");
    assertThat(cleanup()).hasSize(4).allMatch(l -> l.endsWith(" committed"));
    assertThat(rows(t)).isEqualTo(expected(0, 1000));
    assertThat(prepared("crash")).isEmpty();

    // A crash before the decision: nothing decided, nothing rolled back by the dead driver.
    TwoPhaseCommit.crashBeforeDecisionForTests = true;
    assertThatThrownBy(() -> twoPhase(events(1000, 2000), t)).hasStackTraceContaining("injected");
    assertThat(prepared("crash")).hasSize(4);
    assertThat(rows(t)).isEqualTo(expected(0, 1000));
    // Within the threshold (60 minutes by default) they are left alone: the write may still run.
    assertThat(cleanup()).isEmpty();
    assertThat(prepared("crash")).hasSize(4);

    TwoPhaseCommit.clockOffsetSecondsForTests = 2 * 3600;
    assertThat(cleanup()).hasSize(4).allMatch(l -> l.endsWith(" rolled back"));
    assertThat(rows(t)).isEqualTo(expected(0, 1000));
    assertThat(prepared("crash")).isEmpty();
  }

  @Test
  void theNextWriteRollsBackWhatAWriteLeftUndecidedOverADayAgo() throws Exception {
    String t = createEvents("stale", 10, "");
    TwoPhaseCommit.crashBeforeDecisionForTests = true;
    assertThatThrownBy(() -> twoPhase(events(10, 1000), t)).hasStackTraceContaining("injected");
    assertThat(prepared("stale")).hasSize(4);
    twoPhase(events(1000, 1010), t);
    assertThat(prepared("stale")).as("younger than a day: left alone").hasSize(4);

    TwoPhaseCommit.clockOffsetSecondsForTests = 25 * 3600;
    twoPhase(events(1010, 1020), t);
    assertThat(prepared("stale")).isEmpty();
    assertThat(rows(t))
        .isEqualTo(
            expected(
                java.util.stream.LongStream.concat(
                    java.util.stream.LongStream.range(0, 10),
                    java.util.stream.LongStream.range(1000, 1020))));
  }

  @Test
  void whatTwoPhaseDoesNotDoIsRefusedBeforeAnythingIsWritten() throws Exception {
    String t = createEvents("refused", 10, "");
    assertThatThrownBy(
            () ->
                events(10, 20)
                    .writeTo(t)
                    .option("commit", "two-phase")
                    .overwrite(org.apache.spark.sql.functions.col("id").geq(5)))
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("two-phase commit appends");
    assertThatThrownBy(
            () ->
                events(10, 20)
                    .writeTo(table("refused_ctas"))
                    .option("commit", "two-phase")
                    .create())
        .hasMessageContaining("a staged table is always published atomically");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
  }
}
