package io.tessera.jdbc;

import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import org.junit.jupiter.api.Test;

class MariaDbContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.MARIADB;
  }

  /** MyISAM applies a DELETE at once: an atomic publish into it is impossible, so it is refused. */
  @Test
  void nonTransactionalEngineIsRefusedForAtomicWrites() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("events")
            + " (`id` BIGINT NOT NULL, `day` VARCHAR(10), `amount` DOUBLE) ENGINE=MyISAM");
    String t = table("events");

    assertThatThrownBy(() -> events(0, 5).writeTo(t).append())
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("its storage engine MyISAM has no transactions")
        .hasMessageContaining("ENGINE=InnoDB");
    assertThat(jdbcCount("events")).isZero();
    assertNoStagingTables();

    events(0, 5).writeTo(t).option("commit", "direct").append();
    assertThat(rows(t)).isEqualTo(expected(0, 5));
  }

  /**
   * The staging table is non-transactional (Aria), where MariaDB's default STRICT_TRANS_TABLES only
   * checks the first row of a multi-row statement and clips later ones with a warning. A value
   * Spark cannot check (SMALLINT UNSIGNED reads as INT) in a later row of a batch must fail the
   * write, not be published clipped.
   */
  @Test
  void anOutOfRangeValueInALaterRowOfABatchFailsInsteadOfBeingClipped() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("counters")
            + " (`id` BIGINT NOT NULL, `n` SMALLINT UNSIGNED) ENGINE=InnoDB");
    String t = table("counters");
    spark.sql("SELECT 1L AS id, 7 AS n").writeTo(t).append();
    assertThatThrownBy(
            () ->
                spark
                    .range(2, 12, 1, 1)
                    .selectExpr("id", "CAST(CASE WHEN id = 9 THEN 70000 ELSE id END AS INT) AS n")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("Out of range value for column 'n'");
    assertThat(db.query("SELECT `id`, `n` FROM " + db.qualified("counters")))
        .containsExactly(java.util.List.of(1L, 7));
    assertNoStagingTables();
  }

  /**
   * A server that refuses Aria (here enforce_storage_engine=InnoDB with the default
   * NO_ENGINE_SUBSTITUTION) still takes atomic writes: the staging table falls back to the default
   * engine. Before the fallback the write failed with error 1290.
   */
  @Test
  void aServerThatRefusesAriaStagesInItsDefaultEngine() throws Exception {
    String t = createEvents("events", 5, "");
    String innoDbOnly = io.tessera.testing.Names.unique("innodb_only");
    registerCatalog(
        innoDbOnly,
        db.url()
            + (db.url().contains("?") ? "&" : "?")
            + "sessionVariables=enforce_storage_engine=InnoDB",
        db.user(),
        db.password());
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(
                db.url()
                    + (db.url().contains("?") ? "&" : "?")
                    + "sessionVariables=enforce_storage_engine=InnoDB",
                db.user(),
                db.password());
        java.sql.ResultSet rs =
            c.createStatement().executeQuery("SELECT @@SESSION.enforce_storage_engine")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).as("the session refuses Aria").isEqualTo("InnoDB");
    }
    String viaInnoDbOnly = innoDbOnly + "." + db.schema() + ".events";
    events(5, 9).writeTo(viaInnoDbOnly).append();
    events(100, 103).writeTo(viaInnoDbOnly).overwrite(lit(true));
    assertThat(rows(t)).isEqualTo(expected(100, 103));
    assertNoStagingTables();
  }

  @Test
  void nanAndInfinityFailClearlyAndWriteNothing() throws Exception {
    String t = createEvents("events", 3, "");
    for (String value : new String[] {"double('NaN')", "double('Infinity')"}) {
      assertThatThrownBy(
              () ->
                  spark
                      .sql("SELECT 9L AS id, 'd' AS day, " + value + " AS amount")
                      .writeTo(t)
                      .append())
          .hasStackTraceContaining("[UNSUPPORTED_TYPE] Column 'amount' has the value")
          .hasStackTraceContaining("which MariaDB cannot store");
    }
    assertThat(rows(t)).isEqualTo(expected(0, 3));
    assertNoStagingTables();
  }

  @Test
  void datetimeAfterYear9999IsRefusedNamingTheColumn() throws Exception {
    String t = table("times");
    spark.sql("CREATE TABLE " + t + " (id BIGINT, ntz TIMESTAMP_NTZ)");
    assertThatThrownBy(
            () ->
                spark
                    .sql(
                        "SELECT 1L AS id, TIMESTAMP_NTZ'9999-12-31 23:00:00' + INTERVAL 2 HOURS"
                            + " AS ntz")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("[UNSUPPORTED_TYPE] Column 'ntz' has the value +10000-01-01T01:00")
        .hasStackTraceContaining("MariaDB DATETIME cannot store");
    assertThat(jdbcCount("times")).isZero();
    assertNoStagingTables();
  }

  @Test
  void unconfirmedCommitIsResolvedFromTheLedgerHere() throws Exception {
    unconfirmedCommitIsResolvedFromTheLedger();
  }

  /** Timestamp and float keys are matched inside the database (a join), never round-tripped. */
  @Test
  void overwritePartitionsByTimestampAndDoubleKeysReplacesExactly() throws Exception {
    String t = table("readings");
    spark.sql(
        "CREATE TABLE " + t + " (id BIGINT, at TIMESTAMP_NTZ, f DOUBLE) PARTITIONED BY (at, f)");
    spark
        .sql(
            "SELECT * FROM VALUES (1L, TIMESTAMP_NTZ'2024-03-10 02:30:00', 1.1d),"
                + " (2L, TIMESTAMP_NTZ'2024-03-10 02:30:00', 2.2d),"
                + " (3L, TIMESTAMP_NTZ'2024-03-11 00:00:00', 1.1d),"
                + " (4L, CAST(NULL AS TIMESTAMP_NTZ), 1.1d) AS v(id, at, f)")
        .writeTo(t)
        .append();
    spark
        .sql(
            "SELECT * FROM VALUES (10L, TIMESTAMP_NTZ'2024-03-10 02:30:00', 1.1d),"
                + " (11L, CAST(NULL AS TIMESTAMP_NTZ), 1.1d) AS v(id, at, f)")
        .writeTo(t)
        .overwritePartitions();

    assertThat(
            spark
                .table(t)
                .orderBy("id")
                .selectExpr("id")
                .as(org.apache.spark.sql.Encoders.LONG())
                .collectAsList())
        .containsExactly(2L, 3L, 10L, 11L);
    assertNoStagingTables();
  }
}
