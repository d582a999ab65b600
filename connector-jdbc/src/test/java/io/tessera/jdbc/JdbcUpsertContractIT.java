package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * {@code writeMode=upsert}, run once per database: new keys are inserted, existing keys updated, in
 * one transaction with everything else the write does; keys compare as Spark compares. Contents are
 * compared exactly.
 */
abstract class JdbcUpsertContractIT extends JdbcSuite {

  /** events with a primary key on id, holding ids 0..n-1 as {@link #events} writes them. */
  String createKeyedEvents(long n) throws Exception {
    return keyedEvents("events", n);
  }

  /** Rows {@code from..to} with amount id * 2.0, the "new version" of events. */
  static Dataset<Row> changed(long from, long to) {
    return spark
        .range(from, to, 1, 4)
        .selectExpr("id", "concat('d', cast(id % 3 as string)) as day", "id * 2.0 as amount");
  }

  static List<String> changedRows(long from, long to) {
    return LongStream.range(from, to)
        .mapToObj(i -> i + ",d" + (i % 3) + "," + (i * 2.0))
        .collect(Collectors.toList());
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void upsertInsertsNewKeysAndUpdatesExistingOnesByThePrimaryKey() throws Exception {
    String t = createKeyedEvents(10);
    changed(5, 15).writeTo(t).option("writeMode", "upsert").append();

    assertThat(rows(t)).isEqualTo(concat(expected(0, 5), changedRows(5, 15)));
    // Across writes: the same keys again change nothing but their values.
    changed(5, 15).writeTo(t).option("writeMode", "upsert").append();
    assertThat(rows(t)).isEqualTo(concat(expected(0, 5), changedRows(5, 15)));
    assertThat(jdbcCount("events")).isEqualTo(15);
    assertThat(db.tables()).noneMatch(n -> n.startsWith("tessera_stg_"));
    assertThat(ledgerRows()).isZero();
  }

  @Test
  void keysRepeatedWithinOneWriteFailUnlessAnOrderPicksTheRow() throws Exception {
    String t = createKeyedEvents(5);
    Dataset<Row> twice = changed(3, 8).union(events(6, 7));
    assertThatThrownBy(() -> twice.writeTo(t).option("writeMode", "upsert").append())
        .hasMessageContaining("[DUPLICATE_UPSERT_KEY]")
        .hasMessageContaining("more than one row with the key id = 6")
        .hasMessageContaining("set option 'upsertOrderBy'")
        .hasMessageContaining("Nothing was written");
    assertThat(rows(t)).isEqualTo(expected(0, 5));

    // The highest amount wins (id * 2.0 over id * 1.5); a NULL ranks lowest.
    Dataset<Row> ordered =
        changed(3, 8)
            .union(events(6, 7))
            .union(spark.sql("SELECT CAST(7 AS BIGINT) id, 'dx' day, CAST(NULL AS DOUBLE) amount"));
    ordered.writeTo(t).option("writeMode", "upsert").option("upsertOrderBy", "amount").append();
    assertThat(rows(t)).isEqualTo(concat(expected(0, 3), changedRows(3, 8)));

    // Two rows of one key with the same order value: nothing can choose.
    Dataset<Row> tie = changed(1, 2).union(changed(1, 2));
    assertThatThrownBy(
            () ->
                tie.writeTo(t)
                    .option("writeMode", "upsert")
                    .option("upsertOrderBy", "amount")
                    .append())
        .hasMessageContaining("[DUPLICATE_UPSERT_KEY]")
        .hasMessageContaining("the key id = 1 and the same highest amount");
    assertThat(rows(t)).isEqualTo(concat(expected(0, 3), changedRows(3, 8)));
  }

  /**
   * Only a tie for the highest order value is ambiguous; string order values rank by their bytes,
   * as Spark orders them ('a' above 'B'), whatever the database's collation.
   */
  @Test
  void theOrderColumnRanksAsSparkDoesAndLowerTiesDoNotMatter() throws Exception {
    String t = createKeyedEvents(0);
    spark
        .sql(
            "SELECT * FROM VALUES (1L, 'B', 1.0D), (1L, 'a', 2.0D), (1L, 'B', 3.0D),"
                + " (2L, 'x', 1.0D), (2L, 'x', 1.0D), (2L, 'y', 5.0D) AS v(id, day, amount)")
        .writeTo(t)
        .option("writeMode", "upsert")
        .option("upsertOrderBy", "day")
        .append();
    assertThat(rows(t)).containsExactly("1,a,2.0", "2,y,5.0");
  }

  @Test
  void aNullKeyIsRefusedNamingTheColumn() throws Exception {
    // A unique index allows NULLs (a primary key would make Spark itself refuse them).
    db.execute(
        "CREATE TABLE "
            + db.qualified("named")
            + " ("
            + db.quote("name")
            + " VARCHAR(20), "
            + db.quote("n")
            + " BIGINT)",
        "CREATE UNIQUE INDEX "
            + db.quote("named_name")
            + " ON "
            + db.qualified("named")
            + " ("
            + db.quote("name")
            + ")");
    String t = table("named");
    spark.sql("SELECT 'a' name, 1L n").writeTo(t).append();
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT * FROM VALUES ('a', 2L), (CAST(NULL AS STRING), 3L) AS v(name, n)")
                    .writeTo(t)
                    .option("writeMode", "upsert")
                    .option("upsertKeys", "name")
                    .append())
        .hasStackTraceContaining("[NULL_UPSERT_KEY]")
        .hasStackTraceContaining("NULL in key column 'name'");
    assertThat(spark.table(t).collectAsList().toString()).isEqualTo("[[a,1]]");
  }

  @Test
  void keysMustBeGivenOrThePrimaryKey() throws Exception {
    String t = createEvents("plain", 3, "");
    assertThatThrownBy(() -> events(0, 3).writeTo(t).option("writeMode", "upsert").append())
        .hasMessageContaining("[MISSING_OPTION]")
        .hasMessageContaining("the table has no primary key, so set option 'upsertKeys'");
    assertThatThrownBy(
            () ->
                events(0, 3)
                    .writeTo(t)
                    .option("writeMode", "upsert")
                    .option("upsertKeys", "idd")
                    .append())
        .hasMessageContaining("Option 'upsertKeys' names column 'idd'");
    assertThatThrownBy(
            () ->
                events(0, 3)
                    .writeTo(t)
                    .option("writeMode", "upsert")
                    .option("upsertKeys", "id")
                    .option("upsertOrderBy", "id")
                    .append())
        .hasMessageContaining("Option 'upsertOrderBy' names key column 'id'");
    assertThatThrownBy(
            () ->
                events(0, 3)
                    .writeTo(t)
                    .option("writeMode", "upsert")
                    .overwrite(org.apache.spark.sql.functions.lit(true)))
        .hasMessageContaining("[CONFLICTING_WRITE_MODES]");
    if (kind() == DatabaseKind.H2) {
      // H2's MERGE ... KEY matches by the values alone: no unique key is needed.
      events(1, 5).writeTo(t).option("writeMode", "upsert").option("upsertKeys", "id").append();
      assertThat(rows(t)).isEqualTo(expected(0, 5));
    } else {
      assertThatThrownBy(
              () ->
                  events(1, 5)
                      .writeTo(t)
                      .option("writeMode", "upsert")
                      .option("upsertKeys", "id")
                      .append())
          .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
          .hasMessageContaining("has none on exactly these columns")
          .hasMessageContaining("CREATE UNIQUE INDEX");
      assertThat(rows(t)).isEqualTo(expected(0, 3));
    }
  }

  @Test
  void anUpsertWhoseTaskFailsLeavesTheTableAsItWas() throws Exception {
    String t = createKeyedEvents(10);
    // Four tasks: the others commit their staged rows; the job must still change nothing.
    assertThatThrownBy(
            () ->
                changed(5, 15)
                    .selectExpr("fail_always(id, 13L) as id", "day", "amount")
                    .writeTo(t)
                    .option("writeMode", "upsert")
                    .append())
        .hasStackTraceContaining("injected failure, id 13");
    assertThat(rows(t)).isEqualTo(expected(0, 10));
    assertThat(db.tables()).noneMatch(n -> n.startsWith("tessera_stg_"));

    // A task failing on its first attempt only: its retry's rows are upserted once.
    changed(5, 15)
        .selectExpr("fail_first_attempt(id, 13L) as id", "day", "amount")
        .writeTo(t)
        .option("writeMode", "upsert")
        .append();
    assertThat(rows(t)).isEqualTo(concat(expected(0, 5), changedRows(5, 15)));
  }

  /**
   * Spark holds 'a', 'A' and 'a ' three different keys. Where the database's collation agrees, they
   * are three rows; where it would take them for one (MariaDB's default collation ignores case and
   * trailing spaces), the upsert fails rather than update the wrong row.
   */
  @Test
  void stringKeysCompareAsSparkDoes() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("named")
            + " ("
            + db.quote("name")
            + " VARCHAR(20) NOT NULL PRIMARY KEY, "
            + db.quote("n")
            + " BIGINT)");
    String t = table("named");
    spark.sql("SELECT 'a' name, 1L n").writeTo(t).append();
    Dataset<Row> others = spark.sql("SELECT * FROM VALUES ('A', 2L), ('a ', 3L) AS v(name, n)");
    if (kind() == DatabaseKind.MARIADB) {
      assertThatThrownBy(() -> others.writeTo(t).option("writeMode", "upsert").append())
          .hasMessageContaining("[DUPLICATE_UPSERT_KEY]")
          .hasMessageContaining("which the database's collation takes for a different key");
      assertThat(named(t)).containsExactly("a=1");
      // Within one write too: 'b' and 'B' are two keys for Spark, one for the collation.
      assertThatThrownBy(
              () ->
                  spark
                      .sql("SELECT * FROM VALUES ('b', 2L), ('B', 3L) AS v(name, n)")
                      .writeTo(t)
                      .option("writeMode", "upsert")
                      .append())
          .hasMessageContaining("[DUPLICATE_UPSERT_KEY]")
          .hasMessageContaining("which the database's collation takes for a different key");
      assertThat(named(t)).containsExactly("a=1");
    } else {
      others.writeTo(t).option("writeMode", "upsert").append();
      assertThat(named(t)).containsExactlyInAnyOrder("a=1", "A=2", "a =3");
    }
    spark.sql("SELECT 'a' name, 9L n").writeTo(t).option("writeMode", "upsert").append();
    assertThat(named(t)).contains("a=9").doesNotContain("a=1");
  }

  List<String> named(String t) {
    return spark.table(t).collectAsList().stream()
        .map(r -> r.getString(0) + "=" + r.getLong(1))
        .sorted()
        .collect(Collectors.toList());
  }
}
