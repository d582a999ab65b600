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

  /**
   * Values a text or escaping path could confuse (a literal backslash-N, NUL, CR/LF/tab, a trailing
   * backslash, 4-byte UTF-8, empty vs NULL, odd binary bytes, the extreme doubles, a FLOAT's exact
   * value) come back exactly, in every commit mode. (FLOATs are read back through the text
   * protocol's 6 digits, so the values chosen have 6.)
   */
  @Test
  void oddValuesComeBackExactlyInEveryMode() throws Exception {
    String t = table("odd");
    spark.sql("CREATE TABLE " + t + " (id BIGINT, s STRING, bin BINARY, f FLOAT, d DOUBLE)");
    String values =
        "(1L, '\\\\N', X'', cast(0.1 as float), 4.9E-324d),"
            + " (2L, '', cast(null as binary), cast(1.5E38 as float), 1.7976931348623157E308d),"
            + " (3L, cast(null as string), X'005C090A0D4EFF', cast(-1.5 as float), 0.1d),"
            + " (4L, concat('a', char(0), 'b', char(13), char(10), 'c', char(9), 'd \\\\'),"
            + " X'5C4E', cast(null as float), cast(null as double)),"
            + " (5L, 'emoji \uD83D\uDE00 and é', X'FF', cast(1e-40 as float), -2.5e-300d)";
    String[] modes = {"atomic", "direct", "two-phase"};
    for (int m = 0; m < modes.length; m++) {
      spark
          .sql(
              "SELECT id + "
                  + (10 * m)
                  + " AS id, s, bin, f, d FROM VALUES "
                  + values
                  + " AS v(id, s, bin, f, d)")
          .writeTo(t)
          .option("commit", modes[m])
          .append();
    }
    String json = "to_json(struct(id % 10 AS id, s, hex(bin) AS bin, cast(f AS double) AS f, d))";
    java.util.List<String> one =
        spark
            .sql("SELECT * FROM VALUES " + values + " AS v(id, s, bin, f, d)")
            .orderBy("id")
            .selectExpr(json)
            .as(org.apache.spark.sql.Encoders.STRING())
            .collectAsList();
    java.util.List<String> expected = new java.util.ArrayList<>();
    for (String ignored : modes) {
      expected.addAll(one);
    }
    java.util.List<String> actual =
        spark
            .table(t)
            .orderBy("id")
            .selectExpr(json)
            .as(org.apache.spark.sql.Encoders.STRING())
            .collectAsList();
    assertThat(actual).hasSize(15).isEqualTo(expected);
    assertThat(one.get(0)).contains("\\\\N");
    assertThat(one.get(1)).contains("\"s\":\"\"");
    // A NULL string, not the two characters: checked in the database itself.
    assertThat(db.query("SELECT COUNT(*) FROM " + db.qualified("odd") + " WHERE `s` IS NULL"))
        .containsExactly(java.util.List.of(3L));
    assertNoStagingTablesOrPreparedTransactions();
  }

  /**
   * A value the server would adjust (a string cut to TINYTEXT's 255 bytes) or a duplicate key fails
   * the write in every commit mode, with the server's words, and writes nothing.
   */
  @Test
  void aValueTheServerWouldAdjustOrADuplicateKeyFailsTheWriteAndWritesNothing() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("codes")
            + " (`id` BIGINT NOT NULL PRIMARY KEY, `code` TINYTEXT) ENGINE=InnoDB");
    String t = table("codes");
    spark.sql("SELECT 1L AS id, 'abc' AS code").writeTo(t).append();
    String tooLong =
        "SELECT id, CASE WHEN id = 7 THEN repeat('a', 300) ELSE 'x' END AS code"
            + " FROM range(2, 12, 1, 1)";
    // One partition: commit=direct commits each task on its own.
    String duplicate = "SELECT id, 'y' AS code FROM VALUES (5L), (1L), (6L) AS v(id)";
    for (String mode : new String[] {"atomic", "direct", "two-phase"}) {
      assertThatThrownBy(() -> spark.sql(tooLong).writeTo(t).option("commit", mode).append())
          .as(mode)
          .hasStackTraceContaining("Data too long for column 'code'");
      if (!mode.equals("atomic")) {
        // (atomic stages without the key and fails at the publish's INSERT)
        assertThatThrownBy(
                () -> spark.sql(duplicate).coalesce(1).writeTo(t).option("commit", mode).append())
            .as(mode)
            .hasStackTraceContaining("Duplicate entry '1'");
      }
    }
    assertThat(db.query("SELECT `id`, `code` FROM " + db.qualified("codes")))
        .containsExactly(java.util.List.of(1L, "abc"));
    assertNoStagingTablesOrPreparedTransactions();
  }

  /** As assertNoStagingTables; two-phase writes keep their lock row in the ledger by design. */
  private void assertNoStagingTablesOrPreparedTransactions() throws Exception {
    assertThat(db.tables()).noneMatch(t -> t.startsWith("tessera_stg_"));
    assertThat(db.query("XA RECOVER")).isEmpty();
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
