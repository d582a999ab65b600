package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code DELETE}, {@code UPDATE} and {@code MERGE INTO} on JDBC tables, run once per database: each
 * statement changes exactly the rows Spark's semantics say, all or nothing, and a statement whose
 * rows another write changed meanwhile fails and changes nothing. Contents are compared exactly.
 */
abstract class JdbcRowLevelContractIT extends JdbcSuite {
  String src;

  @BeforeEach
  void registerFunctions() {
    spark
        .udf()
        .register("tessera_is_odd", (UDF1<Long, Boolean>) id -> id % 2 == 1, DataTypes.BooleanType);
    src = io.tessera.testing.Names.unique("src");
  }

  @AfterEach
  void noHookLeft() {
    JdbcTestHooks.beforeNextPublish(null);
  }

  /** A temporary view of (id, day, amount) rows, named {@link #src}. */
  void source(String values) {
    spark
        .sql(
            "SELECT CAST(id AS BIGINT) id, day, CAST(amount AS DOUBLE) amount FROM VALUES "
                + values
                + " AS v(id, day, amount)")
        .createOrReplaceTempView(src);
  }

  void source(long from, long to, String day, double factor) {
    spark
        .range(from, to, 1, 2)
        .selectExpr("id", "'" + day + "' AS day", "id * " + factor + " AS amount")
        .createOrReplaceTempView(src);
  }

  /** {@code MERGE INTO t t USING <src> s ON <rest>}. */
  Dataset<Row> merge(String t, String rest) {
    return spark.sql("MERGE INTO " + t + " t USING " + src + " s ON " + rest);
  }

  void assertClean() throws Exception {
    assertThat(db.tables()).noneMatch(n -> n.startsWith("tessera_stg_"));
    assertThat(ledgerRows()).isZero();
  }

  /**
   * A condition that translates to SQL runs as one DELETE: strings compare by their bytes (quotes,
   * case, trailing spaces count), NULL by three-valued logic, as in Spark.
   */
  @Test
  void deleteWithATranslatableConditionComparesAsSparkDoes() throws Exception {
    String t = keyedEvents("events", 10);
    source("(20, 'O''Brien', 1.0), (21, 'o''brien', 2.0), (22, NULL, 3.0), (23, 'd1 ', 4.0)");
    spark.table(src).writeTo(t).append();

    // An UPDATE's condition too: Spark's JDBC scan would match 'o''brien' by MariaDB's collation.
    spark.sql("UPDATE " + t + " SET amount = -1 WHERE day = 'O''Brien' OR day = 'd1'");
    assertThat(rows(t))
        .contains("20,O'Brien,-1.0", "21,o'brien,2.0", "23,d1 ,4.0", "1,d1,-1.0", "2,d2,3.0");
    spark.sql("UPDATE " + t + " SET amount = 1.0 WHERE id = 20");
    spark.sql("UPDATE " + t + " SET amount = id * 1.5 WHERE day = 'd1'");

    spark.sql("DELETE FROM " + t + " WHERE day = 'O''Brien'");
    assertThat(rows(t)).contains("21,o'brien,2.0").noneMatch(r -> r.startsWith("20,"));

    // NULL <> 'd1' is not true: row 22 stays; 'd1 ' differs from 'd1'.
    spark.sql("DELETE FROM " + t + " WHERE day <> 'd1'");
    assertThat(rows(t)).containsExactly("1,d1,1.5", "4,d1,6.0", "7,d1,10.5", "22,null,3.0");

    spark.sql("DELETE FROM " + t + " WHERE id = 4 OR day IS NULL");
    assertThat(rows(t)).containsExactly("1,d1,1.5", "7,d1,10.5");
    spark.sql("DELETE FROM " + t + " WHERE id > 100");
    assertThat(rows(t)).containsExactly("1,d1,1.5", "7,d1,10.5");
    assertClean();
  }

  /** A condition Spark must evaluate itself (a UDF) deletes row by row, by the primary key. */
  @Test
  void deleteWithAUdfDeletesRowByRowThroughThePrimaryKey() throws Exception {
    String t = keyedEvents("events", 10);
    Map<String, Long> metrics =
        io.tessera.testing.SqlMetrics.ofCommand(
            spark.sql("DELETE FROM " + t + " WHERE tessera_is_odd(id)"));
    assertThat(rows(t))
        .isEqualTo(expected(0, 10).stream().filter(r -> r.charAt(0) % 2 == 0).toList());
    assertThat(metrics)
        .containsEntry("numDeletedRows", 5L)
        .containsEntry(JdbcDeltaWrite.ROWS_DELETED, 5L)
        .containsEntry(JdbcDeltaWrite.ROWS_UPDATED, 0L);
    assertClean();
  }

  @Test
  void aTableWithoutPrimaryKeyTakesOnlyDeletesThatTranslate() throws Exception {
    String t = createEvents("plain", 10, "");
    spark.sql("DELETE FROM " + t + " WHERE day = 'd0'");
    assertThat(rows(t)).isEqualTo(expected(java.util.stream.LongStream.of(1, 2, 4, 5, 7, 8)));

    assertThatThrownBy(() -> spark.sql("DELETE FROM " + t + " WHERE tessera_is_odd(id)"))
        .hasMessageContaining("without a primary key tessera-jdbc cannot name the rows")
        .hasMessageContaining("nothing was deleted");
    assertThatThrownBy(() -> spark.sql("UPDATE " + t + " SET amount = 0"))
        .hasMessageContaining("has no primary key")
        .hasMessageContaining("ADD PRIMARY KEY");
    source(1, 3, "s", 2.0);
    assertThatThrownBy(() -> merge(t, "t.id = s.id WHEN MATCHED THEN DELETE"))
        .hasMessageContaining("has no primary key");
    assertThat(rows(t)).isEqualTo(expected(java.util.stream.LongStream.of(1, 2, 4, 5, 7, 8)));
    assertClean();
  }

  /** Values and keys: a changed key is a delete of the old key and an insert of the new row. */
  @Test
  void updateChangesValuesAndKeys() throws Exception {
    String t = keyedEvents("events", 10);
    spark.sql("UPDATE " + t + " SET amount = amount + 1, day = upper(day) WHERE day = 'd0'");
    spark.sql("UPDATE " + t + " SET id = id + 100 WHERE id IN (1, 2)");
    Map<String, Long> metrics =
        io.tessera.testing.SqlMetrics.ofCommand(
            spark.sql(
                "UPDATE " + t + " SET id = CASE WHEN id = 4 THEN 5 ELSE 4 END WHERE id IN (4, 5)"));
    assertThat(rows(t))
        .containsExactly(
            "0,D0,1.0",
            "3,D0,5.5",
            "4,d2,7.5",
            "5,d1,6.0",
            "6,D0,10.0",
            "7,d1,10.5",
            "8,d2,12.0",
            "9,D0,14.5",
            "101,d1,1.5",
            "102,d2,3.0");
    assertThat(metrics)
        .containsEntry("numUpdatedRows", 2L)
        .containsEntry(JdbcDeltaWrite.ROWS_DELETED, 2L)
        .containsEntry(JdbcDeltaWrite.ROWS_INSERTED, 2L);
    assertClean();
  }

  @Test
  void mergeWithEveryKindOfClause() throws Exception {
    String t = keyedEvents("events", 10);
    source(5, 15, "s", 10.0);
    Map<String, Long> metrics =
        io.tessera.testing.SqlMetrics.ofCommand(
            merge(
                t,
                "t.id = s.id"
                    + " WHEN MATCHED AND s.id = 5 THEN DELETE"
                    + " WHEN MATCHED THEN UPDATE SET amount = s.amount"
                    + " WHEN NOT MATCHED AND s.id < 13 THEN INSERT *"
                    + " WHEN NOT MATCHED BY SOURCE AND t.id < 2 THEN DELETE"
                    + " WHEN NOT MATCHED BY SOURCE THEN UPDATE SET day = 'gone'"));
    assertThat(rows(t))
        .containsExactly(
            "2,gone,3.0",
            "3,gone,4.5",
            "4,gone,6.0",
            "6,d0,60.0",
            "7,d1,70.0",
            "8,d2,80.0",
            "9,d0,90.0",
            "10,s,100.0",
            "11,s,110.0",
            "12,s,120.0");
    assertThat(metrics)
        .containsEntry(JdbcDeltaWrite.ROWS_DELETED, 3L)
        .containsEntry(JdbcDeltaWrite.ROWS_UPDATED, 7L)
        .containsEntry(JdbcDeltaWrite.ROWS_INSERTED, 3L);
    assertClean();
  }

  @Test
  void aMergeThatBreaksSparksRulesOrTheKeyChangesNothing() throws Exception {
    String t = keyedEvents("events", 5);
    source("(3, 'a', 1.0), (3, 'b', 2.0)");
    assertThatThrownBy(() -> merge(t, "t.id = s.id WHEN MATCHED THEN UPDATE SET amount = s.amount"))
        .hasMessageContaining("MERGE_CARDINALITY_VIOLATION");
    assertThat(rows(t)).isEqualTo(expected(0, 5));

    // Not matched (ON compares with id + 100), so inserted: but key 3 is in the table.
    source("(3, 'x', 1.0)");
    assertThatThrownBy(
            () ->
                merge(
                    t,
                    "t.id = s.id + 100 WHEN MATCHED THEN DELETE"
                        + " WHEN NOT MATCHED THEN INSERT *"))
        .hasMessageContaining("inserts a row that the table refuses")
        .hasMessageContaining("Nothing was changed");
    assertThat(rows(t)).isEqualTo(expected(0, 5));
    assertClean();
  }

  /**
   * Spark checks no cardinality when the only matched action is an unconditional DELETE: two source
   * rows may delete one target row, once.
   */
  @Test
  void twoSourceRowsMayDeleteOneTargetRow() throws Exception {
    String t = keyedEvents("events", 5);
    source("(3, 'a', 1.0), (3, 'b', 2.0), (4, 'c', 3.0)");
    merge(t, "t.id = s.id WHEN MATCHED THEN DELETE");
    assertThat(rows(t)).isEqualTo(expected(0, 3));
    assertClean();
  }

  /**
   * A changed key is a delete and an insert: where another table's foreign key cascades on delete,
   * that would delete its rows, so it is refused; other changes of such a table work.
   */
  @Test
  void keyChangesAreRefusedWhereADeleteWouldCascade() throws Exception {
    String t = keyedEvents("events", 5);
    db.execute(
        "CREATE TABLE "
            + db.qualified("child")
            + " ("
            + db.quote("id")
            + " BIGINT NOT NULL PRIMARY KEY, "
            + db.quote("parent")
            + " BIGINT, FOREIGN KEY ("
            + db.quote("parent")
            + ") REFERENCES "
            + db.qualified("events")
            + " ("
            + db.quote("id")
            + ") ON DELETE CASCADE)",
        "INSERT INTO " + db.qualified("child") + " VALUES (1, 2)");
    assertThatThrownBy(() -> spark.sql("UPDATE " + t + " SET id = id + 10 WHERE id = 2"))
        .hasMessageContaining("changes the key id of rows")
        .hasMessageContaining("(ON DELETE CASCADE)")
        .hasMessageContaining("Nothing was changed");
    spark.sql("UPDATE " + t + " SET amount = 0 WHERE id = 2");
    List<String> expectedRows = new java.util.ArrayList<>(expected(0, 5));
    expectedRows.set(2, "2,d2,0.0");
    assertThat(rows(t)).isEqualTo(expectedRows);
    assertThat(jdbcCount("child")).isEqualTo(1);
    assertClean();
  }

  /** commit=direct and two-phase are ways to append: a catalog's default does not apply here. */
  @Test
  void rowLevelChangesAreAtomicWhateverTheCatalogsCommitMode() throws Exception {
    keyedEvents("events", 5);
    String direct = io.tessera.testing.Names.unique("direct");
    registerCatalog(direct, db.url(), db.user(), db.password());
    spark.conf().set("spark.sql.catalog." + direct + ".commit", "direct");
    String t = direct + "." + db.schema() + ".events";
    spark.sql("UPDATE " + t + " SET amount = -1 WHERE id >= 3");
    spark.sql("DELETE FROM " + t + " WHERE tessera_is_odd(id)");
    assertThat(rows(t)).containsExactly("0,d0,0.0", "2,d2,3.0", "4,d1,-1.0");
    assertClean();
  }

  @Test
  void aTaskFailingOnItsFirstAttemptChangesEachRowOnce() throws Exception {
    String t = keyedEvents("events", 20);
    spark.sql("UPDATE " + t + " SET amount = fail_first_attempt(id, 7L) * 2.0 WHERE id >= 5");
    assertThat(rows(t))
        .isEqualTo(
            java.util.stream.Stream.concat(
                    expected(0, 5).stream(),
                    java.util.stream.LongStream.range(5, 20)
                        .mapToObj(i -> i + ",d" + (i % 3) + "," + (i * 2.0)))
                .toList());
    assertClean();
  }

  @Test
  void anAlwaysFailingMergeChangesNothing() throws Exception {
    String t = keyedEvents("events", 10);
    source(0, 20, "s", 3.0);
    assertThatThrownBy(
            () ->
                merge(
                    t,
                    "t.id = s.id"
                        + " WHEN MATCHED THEN UPDATE SET amount = fail_always(s.id, 7L) * 1.0"
                        + " WHEN NOT MATCHED THEN INSERT *"))
        .hasStackTraceContaining("injected failure");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
    assertClean();
  }

  /**
   * A statement fails and changes nothing if a row it changes was changed by another write after it
   * read it (first committer wins); writes that touch other rows land beside it.
   */
  @Test
  void aRowChangedMeanwhileFailsTheStatementAndOtherRowsLand() throws Exception {
    String t = keyedEvents("events", 10);
    JdbcTestHooks.beforeNextPublish(
        () -> {
          try {
            source("(3, 'upserted', 0.5)");
            spark.table(src).writeTo(t).option("writeMode", "upsert").append();
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
    assertThatThrownBy(() -> spark.sql("UPDATE " + t + " SET amount = -1 WHERE id < 5"))
        .hasMessageContaining("read the row with id = 3, which another write changed or deleted")
        .hasMessageContaining("Nothing was changed");
    List<String> afterUpsert = new java.util.ArrayList<>(expected(0, 10));
    afterUpsert.set(3, "3,upserted,0.5");
    assertThat(rows(t)).isEqualTo(afterUpsert);

    // A row deleted by a writer that bypasses Tessera too.
    JdbcTestHooks.beforeNextPublish(
        () -> {
          try {
            db.execute(
                "DELETE FROM " + db.qualified("events") + " WHERE " + db.quote("id") + " = 8");
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
    assertThatThrownBy(() -> spark.sql("DELETE FROM " + t + " WHERE tessera_is_odd(id + 1)"))
        .hasMessageContaining("id = 8, which another write changed or deleted");
    afterUpsert.remove(8);
    assertThat(rows(t)).isEqualTo(afterUpsert);

    // An append and a change of other rows meanwhile: both land.
    JdbcTestHooks.beforeNextPublish(
        () -> {
          try {
            events(50, 52).writeTo(t).append();
            spark.sql("UPDATE " + t + " SET day = 'other' WHERE id = 9");
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
    spark.sql("UPDATE " + t + " SET amount = -1 WHERE id < 3");
    assertThat(rows(t))
        .containsExactly(
            "0,d0,-1.0",
            "1,d1,-1.0",
            "2,d2,-1.0",
            "3,upserted,0.5",
            "4,d1,6.0",
            "5,d2,7.5",
            "6,d0,9.0",
            "7,d1,10.5",
            "9,other,13.5",
            "50,d2,75.0",
            "51,d0,76.5");
    assertClean();
  }

  /** Two MERGEs of the same rows at once: one wins whole, the other fails whole. */
  @Test
  void twoMergesAtOnceEndAsOneSerialOrder() throws Exception {
    String t = keyedEvents("events", 10);
    String merge =
        "MERGE INTO %s t USING (SELECT id, amount FROM %s) s ON t.id = s.id"
            + " WHEN MATCHED THEN UPDATE SET amount = t.amount + s.amount"
            + " WHEN NOT MATCHED THEN INSERT (id, day, amount) VALUES (s.id, 'new', s.amount)";
    String second = io.tessera.testing.Names.unique("second");
    spark.range(0, 12, 1, 2).selectExpr("id", "1000.0 AS amount").createOrReplaceTempView(second);
    spark.range(0, 12, 1, 2).selectExpr("id", "100.0 AS amount").createOrReplaceTempView(src);
    JdbcTestHooks.beforeNextPublish(() -> spark.sql(String.format(merge, t, second)));
    assertThatThrownBy(() -> spark.sql(String.format(merge, t, src)))
        .hasMessageContaining("which another write changed or deleted");
    List<String> expectedRows = new java.util.ArrayList<>();
    for (long i = 0; i < 10; i++) {
      expectedRows.add(i + ",d" + (i % 3) + "," + (i * 1.5 + 1000.0));
    }
    expectedRows.add("10,new,1000.0");
    expectedRows.add("11,new,1000.0");
    assertThat(rows(t)).isEqualTo(expectedRows);

    // MERGEs of different rows at once: both land.
    String low = io.tessera.testing.Names.unique("low");
    spark.range(0, 3).selectExpr("id", "1.0 AS amount").createOrReplaceTempView(low);
    String high = io.tessera.testing.Names.unique("high");
    spark.range(5, 8).selectExpr("id", "2.0 AS amount").createOrReplaceTempView(high);
    JdbcTestHooks.beforeNextPublish(() -> spark.sql(String.format(merge, t, high)));
    spark.sql(String.format(merge, t, low));
    for (int i = 0; i < 3; i++) {
      expectedRows.set(i, i + ",d" + (i % 3) + "," + (i * 1.5 + 1001.0));
    }
    for (int i = 5; i < 8; i++) {
      expectedRows.set(i, i + ",d" + (i % 3) + "," + (i * 1.5 + 1002.0));
    }
    assertThat(rows(t)).isEqualTo(expectedRows);
    assertClean();
  }
}
