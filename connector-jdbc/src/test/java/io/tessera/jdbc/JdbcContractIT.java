package io.tessera.jdbc;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The contract every JDBC dialect must meet, run once per database by the subclasses. Every test
 * asserts the exact contents of the target afterwards, read both through the catalog (Spark's JDBC
 * reader) and with plain JDBC.
 */
abstract class JdbcContractIT extends JdbcSuite {

  /** Nothing of a finished write is left: no staging table, no ledger row. */
  void assertNoStagingTables() throws Exception {
    assertThat(db.tables()).noneMatch(t -> t.startsWith("tessera_stg_"));
    assertThat(ledgerRows()).as("rows left in the ledgers").isZero();
  }

  // ---- write modes ------------------------------------------------------------------------

  @Test
  void appendAddsExactlyTheNewRows() throws Exception {
    String t = createEvents("events", 10, "");
    events(10, 25).writeTo(t).append();

    assertThat(rows(t)).isEqualTo(expected(0, 25));
    assertThat(jdbcCount("events")).isEqualTo(25);
    assertNoStagingTables();
  }

  @Test
  void allAtomicTypesRoundTrip() throws Exception {
    String t = table("types");
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT NOT NULL, b BOOLEAN, tiny TINYINT, small SMALLINT, i INT, f FLOAT,"
            + " d DOUBLE, dec DECIMAL(12,3), s STRING, bin BINARY, day DATE, ts TIMESTAMP,"
            + " ntz TIMESTAMP_NTZ)");
    Dataset<Row> source =
        spark.sql(
            "SELECT * FROM VALUES "
                + "(1L, true, cast(-7 as tinyint), cast(300 as smallint), 70000, cast(1.5 as float),"
                + " 2.25d, cast(123456789.125 as decimal(12,3)), 'tab\\there \\\\ and \"quotes\"'"
                + " ' \\n newline é', X'00FF10', DATE'2026-11-01',"
                + " TIMESTAMP'2026-11-01 12:34:56.123456', TIMESTAMP_NTZ'2026-11-02 01:02:03.5'),"
                + "(2L, null, null, null, null, null, null, null, null, null, null, null, null)"
                + " AS v(id, b, tiny, small, i, f, d, dec, s, bin, day, ts, ntz)");
    source.writeTo(t).append();

    String json =
        "to_json(struct(id, b, tiny, small, i, f, d, dec, s, base64(bin) as bin, day, ts,"
            + " cast(ntz as timestamp) as ntz))";
    // Read-back types may be wider (TINYINT as SMALLINT, NTZ as TIMESTAMP): compare values as JSON.
    List<String> expected =
        source.orderBy("id").selectExpr(json).as(Encoders.STRING()).collectAsList();
    List<String> actual =
        spark.table(t).orderBy("id").selectExpr(json).as(Encoders.STRING()).collectAsList();
    assertThat(actual).hasSize(2).isEqualTo(expected);
    assertThat(actual.get(0)).contains("\\\"quotes\\\"").contains("2026-11-01");
  }

  /**
   * In a session zone far from UTC, TIMESTAMP_NTZ values keep their wall-clock time and come back
   * as TIMESTAMP_NTZ, TIMESTAMP values are stored as their instant (UTC; on MariaDB's DATETIME the
   * executor JVM's wall-clock time), and dates of October 1582 and of year 1000 are stored as the
   * proleptic Gregorian dates Spark means, checked in the database itself.
   */
  @Test
  void datesAndTimestampsKeepTheirMeaningInAnySessionZone() throws Exception {
    String zone = spark.conf().get("spark.sql.session.timeZone");
    spark.conf().set("spark.sql.session.timeZone", "America/Los_Angeles");
    try {
      String t = table("times");
      spark.sql("CREATE TABLE " + t + " (id BIGINT, d DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ)");
      boolean maria = kind() == DatabaseKind.MARIADB; // DATETIME stops at 9999-12-31
      Dataset<Row> source =
          spark.sql(
              "SELECT * FROM VALUES"
                  + " (1L, DATE'2026-11-01', TIMESTAMP'2026-11-01 12:34:56.123456',"
                  + "  TIMESTAMP_NTZ'2026-11-02 01:02:03.5'),"
                  + " (2L, DATE'1582-10-10', TIMESTAMP'1582-10-10 12:00:00',"
                  + "  TIMESTAMP_NTZ'1582-10-10 12:00:00'),"
                  + " (3L, DATE'9999-12-31', TIMESTAMP'"
                  + (maria ? "9999-12-30" : "9999-12-31")
                  + " 23:59:59.999999', TIMESTAMP_NTZ'9999-12-31 23:59:59.999999'),"
                  + " (4L, DATE'1000-01-01', TIMESTAMP'1000-01-01 00:00:00',"
                  + "  TIMESTAMP_NTZ'1000-01-01 00:00:00')"
                  + " AS v(id, d, ts, ntz)");
      source.writeTo(t).append();

      // What the database holds (Los Angeles was UTC-7:52:58 before 1883, -8 in winter).
      List<String> instants =
          List.of(
              "2026-11-01T20:34:56.123456Z",
              "1582-10-10T19:52:58Z",
              maria ? "9999-12-31T07:59:59.999999Z" : "+10000-01-01T07:59:59.999999Z",
              "1000-01-01T07:52:58Z");
      List<String> want = new java.util.ArrayList<>();
      String[] dates = {"2026-11-01", "1582-10-10", "9999-12-31", "1000-01-01"};
      String[] ntz = {
        "2026-11-02 01:02:03.5",
        "1582-10-10 12:00:00",
        "9999-12-31 23:59:59.999999",
        "1000-01-01 00:00:00"
      };
      for (int i = 0; i < 4; i++) {
        java.time.Instant instant = java.time.Instant.parse(instants.get(i));
        java.time.LocalDateTime wall =
            java.time.LocalDateTime.ofInstant(
                instant, maria ? java.time.ZoneId.systemDefault() : java.time.ZoneOffset.UTC);
        want.add(dates[i] + " | " + wallClock(wall.toString()) + " | " + ntz[i]);
      }
      List<String> stored = new java.util.ArrayList<>();
      for (List<Object> r :
          db.query(
              "SELECT CAST("
                  + db.quote("d")
                  + " AS VARCHAR(40)), CAST("
                  + db.quote("ts")
                  + " AS VARCHAR(60)), CAST("
                  + db.quote("ntz")
                  + " AS VARCHAR(60)) FROM "
                  + db.qualified("times")
                  + " ORDER BY "
                  + db.quote("id"))) {
        stored.add(
            r.get(0) + " | " + wallClock((String) r.get(1)) + " | " + wallClock((String) r.get(2)));
      }
      assertThat(stored).isEqualTo(want);

      // What Spark reads back: the types, and the values of the modern and the last rows. (Spark's
      // JDBC reader goes through java.sql.Date/Timestamp, whose hybrid calendar shows dates before
      // 1582-10-15 shifted by days: a reader limitation, the stored values above are exact.)
      assertThat(spark.table(t).schema().apply("ntz").dataType())
          .isEqualTo(org.apache.spark.sql.types.DataTypes.TimestampNTZType);
      assertThat(spark.table(t).schema().apply("ts").dataType())
          .isEqualTo(org.apache.spark.sql.types.DataTypes.TimestampType);
      String asText = "concat_ws(' | ', id, d, ts, ntz)";
      String modern = "id IN (1, 3)";
      assertThat(
              spark
                  .table(t)
                  .where(modern)
                  .orderBy("id")
                  .selectExpr(asText)
                  .as(Encoders.STRING())
                  .collectAsList())
          .isEqualTo(
              source
                  .where(modern)
                  .orderBy("id")
                  .selectExpr(asText)
                  .as(Encoders.STRING())
                  .collectAsList());
    } finally {
      spark.conf().set("spark.sql.session.timeZone", zone);
    }
  }

  /** A date-time text as {@code yyyy-mm-dd hh:mm:ss[.fraction]}: no "T", offset or zeros. */
  private static String wallClock(String text) {
    String s = text.replace('T', ' ').replaceFirst("^\\+", "").replaceFirst("\\+00$", "").trim();
    String[] parts = s.split(" ");
    if (parts.length < 2) {
      return s;
    }
    String time = parts[1].length() == 5 ? parts[1] + ":00" : parts[1];
    if (time.contains(".")) {
      time = time.replaceFirst("0+$", "").replaceFirst("\\.$", "");
    }
    return parts[0] + " " + time;
  }

  @Test
  void insertOverwriteReplacesAllRows() throws Exception {
    String t = createEvents("events", 20, "");
    String view = io.tessera.testing.Names.unique("src");
    events(100, 107).createOrReplaceTempView(view);

    spark.sql("INSERT OVERWRITE " + t + " SELECT * FROM " + view);

    assertThat(rows(t)).isEqualTo(expected(100, 107));
    assertNoStagingTables();
  }

  @Test
  void overwriteWithEmptyInputEmptiesTheTable() throws Exception {
    String t = createEvents("events", 20, "");
    events(0, 0).writeTo(t).overwrite(lit(true));

    assertThat(rows(t)).isEmpty();
    assertThat(jdbcCount("events")).isZero();
  }

  @Test
  void overwriteByFilterReplacesOnlyMatchingRows() throws Exception {
    String t = createEvents("events", 30, "");
    // New rows for day d1 only; every old d1 row goes, d0 and d2 stay.
    Dataset<Row> newD1 = events(1000, 1012).where("day = 'd1'");
    newD1.writeTo(t).overwrite(col("day").equalTo("d1"));

    List<String> want =
        expected(
            LongStream.concat(
                LongStream.range(0, 30).filter(i -> i % 3 != 1),
                LongStream.range(1000, 1012).filter(i -> i % 3 == 1)));
    assertThat(rows(t)).isEqualTo(want);
  }

  @Test
  void overwriteByCompoundFilterWithQuoteInLiteral() throws Exception {
    String t = createEvents("events", 9, "");
    events(0, 0)
        .selectExpr("id", "\"O'Brien'; DROP TABLE x; --\" as day", "amount")
        .writeTo(t)
        .append();
    spark
        .sql("SELECT 500L as id, 'O''Brien''; DROP TABLE x; --' as day, 1.0d as amount")
        .writeTo(t)
        .append();
    assertThat(jdbcCount("events")).isEqualTo(10);

    spark
        .sql("SELECT 501L as id, 'd0' as day, 2.0d as amount")
        .writeTo(t)
        .overwrite(
            col("day")
                .equalTo("O'Brien'; DROP TABLE x; --")
                .or(col("day").equalTo("d0").and(col("id").gt(2))));

    // Removed: the O'Brien row and d0 rows with id > 2 (3 and 6); added: 501.
    assertThat(spark.table(t).orderBy("id").selectExpr("id").as(Encoders.LONG()).collectAsList())
        .containsExactly(0L, 1L, 2L, 4L, 5L, 7L, 8L, 501L);
  }

  @Test
  void overwritePartitionsReplacesOnlyPartitionsPresentInNewRows() throws Exception {
    String t = createEvents("events", 30, "PARTITIONED BY (day)");
    // New rows only for d0 and d2: all old d0/d2 rows go, d1 stays.
    events(2000, 2010).where("day <> 'd1'").writeTo(t).overwritePartitions();

    List<String> want =
        expected(
            LongStream.concat(
                LongStream.range(0, 30).filter(i -> i % 3 == 1),
                LongStream.range(2000, 2010).filter(i -> i % 3 != 1)));
    assertThat(rows(t)).isEqualTo(want);
    assertNoStagingTables();
  }

  /** A NULL partition value is a partition of its own, as in Spark: replaced only by NULL rows. */
  @Test
  void overwritePartitionsTreatsNullAsItsOwnPartition() throws Exception {
    String t = createEvents("events", 6, "PARTITIONED BY (day)");
    spark.sql("SELECT 50L AS id, CAST(NULL AS STRING) AS day, 1.0d AS amount").writeTo(t).append();
    spark
        .sql(
            "SELECT * FROM VALUES (60L, CAST(NULL AS STRING), 2.0d), (61L, 'd1', 3.0d)"
                + " AS v(id, day, amount)")
        .writeTo(t)
        .overwritePartitions();

    assertThat(rows(t))
        .containsExactly(
            "0,d0,0.0", "2,d2,3.0", "3,d0,4.5", "5,d2,7.5", "60,null,2.0", "61,d1,3.0");
    assertNoStagingTables();
  }

  @Test
  void overwritePartitionsWithPartitionKeysOption() throws Exception {
    String t = createEvents("events", 12, "");
    events(3000, 3003)
        .where("day = 'd2'")
        .writeTo(t)
        .option("partitionKeys", "day")
        .overwritePartitions();

    List<String> want =
        expected(
            LongStream.concat(
                LongStream.range(0, 12).filter(i -> i % 3 != 2),
                LongStream.range(3000, 3003).filter(i -> i % 3 == 2)));
    assertThat(rows(t)).isEqualTo(want);
  }

  @Test
  void overwritePartitionsOfAnUnpartitionedTableReplacesTheWholeTable() throws Exception {
    String t = createEvents("events", 6, "");
    events(10, 12).writeTo(t).overwritePartitions();
    assertThat(rows(t)).isEqualTo(expected(10, 12));
    assertNoStagingTables();
  }

  @Test
  void directCommitAppendsAndRefusesReplacingModes() throws Exception {
    String t = createEvents("events", 5, "");
    events(5, 9).writeTo(t).option("commit", "direct").append();
    assertThat(rows(t)).isEqualTo(expected(0, 9));
    assertNoStagingTables();

    assertThatThrownBy(
            () -> events(0, 1).writeTo(t).option("commit", "direct").overwrite(lit(true)))
        .hasMessageContaining("commit=direct does not support write mode truncate");
    assertThat(rows(t)).isEqualTo(expected(0, 9));
  }

  // ---- Spark's string comparison, not the database's collation -----------------------------

  static final List<String> NAMES =
      List.of("O'Brien", "o'brien", "Koln", "Köln", "a", "a ", "B", "Z", "é");

  /** A table (id, name) with one row per entry of {@link #NAMES}, id = its index. */
  String createNames(String extra) throws Exception {
    String t = table("names");
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING) " + extra);
    if (kind() == DatabaseKind.POSTGRESQL) {
      // A locale collation, as most PostgreSQL servers have by default ('a' < 'Z', 'é' near 'e').
      db.execute(
          "ALTER TABLE "
              + db.qualified("names")
              + " ALTER COLUMN "
              + db.quote("name")
              + " TYPE TEXT COLLATE \"en-US-x-icu\"");
    }
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < NAMES.size(); i++) {
      values
          .append(i == 0 ? "" : ", ")
          .append("(")
          .append(i)
          .append("L, '")
          .append(NAMES.get(i).replace("'", "\\'"))
          .append("')");
    }
    spark.sql("SELECT * FROM VALUES " + values + " AS v(id, name)").writeTo(t).append();
    return t;
  }

  List<String> names(String t) {
    return spark.table(t).orderBy("id").select("name").as(Encoders.STRING()).collectAsList();
  }

  static List<String> namesWithout(String... removed) {
    List<String> out = new java.util.ArrayList<>(NAMES);
    out.removeAll(List.of(removed));
    return out;
  }

  @Test
  void overwriteConditionsCompareStringsAsSparkDoes() throws Exception {
    String t = createNames("");
    Dataset<Row> none = spark.sql("SELECT 100L AS id, 'new' AS name").limit(0);

    none.writeTo(t).overwrite(col("name").equalTo("O'Brien"));
    none.writeTo(t).overwrite(col("name").equalTo("Koln"));
    none.writeTo(t).overwrite(col("name").equalTo("a"));
    assertThat(names(t)).isEqualTo(namesWithout("O'Brien", "Koln", "a"));

    // Spark orders by UTF-8 bytes: 'o' (0x6F) and 'é' (0xC3 0xA9) sort after 'Z'; 'B', 'K' before.
    none.writeTo(t).overwrite(col("name").gt("Z"));
    assertThat(names(t)).isEqualTo(List.of("Köln", "B", "Z"));
    // "a " is gone with 'a ' > 'Z'; the remaining rows compare by bytes too.
    none.writeTo(t).overwrite(col("name").lt("C").and(col("name").isin("B", "b")));
    assertThat(names(t)).isEqualTo(List.of("Köln", "Z"));
  }

  /**
   * CHAR(n) columns: Spark pads values to n and compares padded. An overwrite condition on such a
   * column must find the rows Spark would, on a database that strips (MariaDB) or ignores
   * (PostgreSQL) the padding, and dynamic overwrite by a CHAR key must replace its partition.
   */
  @Test
  void overwriteConditionsOnCharColumnsMatchAsSparkDoes() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("codes")
            + " ("
            + db.quote("id")
            + " BIGINT, "
            + db.quote("c")
            + " CHAR(3))");
    String t = table("codes");
    spark
        .sql("SELECT * FROM VALUES (1L, 'xy'), (2L, 'xyz'), (3L, 'x'), (4L, 'ab') AS v(id, c)")
        .writeTo(t)
        .append();
    spark.sql("SELECT 10L AS id, 'xy' AS c").writeTo(t).overwrite(col("c").equalTo("xy"));
    assertThat(codes(t)).containsExactly("2:xyz", "3:x  ", "4:ab ", "10:xy ");
    spark.sql("SELECT 11L AS id, 'x' AS c").writeTo(t).overwrite(col("c").isin("x", "q"));
    assertThat(codes(t)).containsExactly("2:xyz", "4:ab ", "10:xy ", "11:x  ");
    spark
        .sql("SELECT 12L AS id, 'ab' AS c")
        .writeTo(t)
        .option("partitionKeys", "c")
        .overwritePartitions();
    assertThat(codes(t)).containsExactly("2:xyz", "10:xy ", "11:x  ", "12:ab ");
    // Ranges compare padded values: 'x  ' and 'ab ' sort before 'xy ', 'xyz' after.
    spark.sql("SELECT 13L AS id, 'b' AS c").writeTo(t).overwrite(col("c").lt("xy"));
    assertThat(codes(t)).containsExactly("2:xyz", "10:xy ", "13:b  ");
    spark.sql("SELECT 14L AS id, 'q' AS c").writeTo(t).overwrite(col("c").notEqual("xyz"));
    assertThat(codes(t)).containsExactly("2:xyz", "14:q  ");
    // With spark.sql.legacy.charVarcharAsString Spark neither pads nor compares padded.
    spark.conf().set("spark.sql.legacy.charVarcharAsString", "true");
    try {
      spark.sql("SELECT 15L AS id, 'r' AS c").writeTo(t).overwrite(col("c").equalTo("q"));
    } finally {
      spark.conf().unset("spark.sql.legacy.charVarcharAsString");
    }
    assertThat(jdbcCount("codes")).isEqualTo(2);
    assertThat(codes(t)).containsExactly("2:xyz", "15:r  ");
    assertNoStagingTables();
  }

  private List<String> codes(String t) {
    return spark.table(t).orderBy("id").collectAsList().stream()
        .map(r -> r.getLong(0) + ":" + r.getString(1))
        .toList();
  }

  @Test
  void overwritePartitionsMatchesKeysAsSparkDoes() throws Exception {
    String t = createNames("PARTITIONED BY (name)");
    spark
        .sql("SELECT * FROM VALUES (100L, 'O''Brien'), (101L, 'Koln'), (102L, 'a') AS v(id, name)")
        .writeTo(t)
        .overwritePartitions();

    List<String> want = namesWithout("O'Brien", "Koln", "a");
    want.addAll(List.of("O'Brien", "Koln", "a"));
    assertThat(names(t)).isEqualTo(want);
    assertThat(spark.table(t).count()).isEqualTo(NAMES.size());
  }

  // ---- existing tables of other shapes --------------------------------------------------------

  /** CHAR(n), VARCHAR(n), unbounded VARCHAR and TEXT columns of any length are writable. */
  /**
   * Aggregates over a table read through the catalog (Spark may push them down into the JDBC
   * query), alone and as the query of a CREATE OR REPLACE TABLE ... AS SELECT.
   */
  @Test
  void aggregatesOverACatalogTableWork() throws Exception {
    String t = table("agg");
    spark.sql("CREATE TABLE " + t + " (id BIGINT NOT NULL, day STRING, amount DOUBLE)");
    spark
        .range(0, 10)
        .selectExpr("id", "concat('d', id % 3) AS day", "CAST(id AS DOUBLE) AS amount")
        .writeTo(t)
        .append();
    String query = "SELECT day, COUNT(*) AS n, SUM(amount) AS total FROM " + t + " GROUP BY day";
    List<String> expected = List.of("[d0,4,18.0]", "[d1,3,12.0]", "[d2,3,15.0]");
    // The same over a VARCHAR(10) column the database created (read as Spark's VARCHAR(10)).
    db.execute(
        "CREATE TABLE "
            + db.qualified("aggv")
            + " ("
            + db.quote("day")
            + " VARCHAR(10), "
            + db.quote("amount")
            + " DOUBLE PRECISION)");
    spark.table(t).select("day", "amount").writeTo(table("aggv")).append();
    assertThat(
            spark
                .sql(
                    "SELECT day, COUNT(*) AS n, SUM(amount) AS total FROM "
                        + table("aggv")
                        + " GROUP BY day ORDER BY day")
                .collectAsList()
                .stream()
                .map(Row::toString))
        .containsExactlyElementsOf(expected);
    assertThat(spark.sql(query + " ORDER BY day").collectAsList().stream().map(Row::toString))
        .containsExactlyElementsOf(expected);
    spark.sql("CREATE OR REPLACE TABLE " + table("agg_daily") + " AS " + query);
    assertThat(
            spark.table(table("agg_daily")).orderBy("day").collectAsList().stream()
                .map(Row::toString))
        .containsExactlyElementsOf(expected);
  }

  @Test
  void existingCharVarcharAndTextColumnsAreWritable() throws Exception {
    String unbounded =
        switch (kind()) {
          case H2 -> "VARCHAR";
          case POSTGRESQL -> "TEXT";
          case MARIADB -> "LONGTEXT";
        };
    db.execute(
        "CREATE TABLE "
            + db.qualified("texts")
            + " ("
            + db.quote("id")
            + " BIGINT, "
            + db.quote("v")
            + " VARCHAR(5), "
            + db.quote("c")
            + " CHAR(3), "
            + db.quote("big")
            + " VARCHAR(10000), "
            + db.quote("u")
            + " "
            + unbounded
            + ")");
    String t = table("texts");
    spark
        .sql("SELECT 1L AS id, 'abcde' AS v, 'xy' AS c, repeat('z', 9000) AS big, 'free' AS u")
        .writeTo(t)
        .append();

    Row r = spark.table(t).first();
    assertThat(r.getLong(0)).isEqualTo(1L);
    assertThat(r.getString(1)).isEqualTo("abcde");
    assertThat(r.getString(2).trim()).isEqualTo("xy");
    assertThat(r.getString(3)).hasSize(9000);
    assertThat(r.getString(4)).isEqualTo("free");

    // Spark's own length check for VARCHAR(5) applies, before anything is published.
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 2L AS id, 'abcdef' AS v, 'x' AS c, 'b' AS big, 'u' AS u")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("length");
    assertThat(jdbcCount("texts")).isEqualTo(1);
    assertNoStagingTables();

    // A CTAS from it creates the table from the columns as Spark reads them (CHAR(3), VARCHAR(5),
    // VARCHAR(10000), H2's VARCHAR as VARCHAR(1000000000)); each length becomes the database's
    // CHAR/VARCHAR where it fits, else its unbounded text type. It was refused before.
    spark.sql("CREATE TABLE " + table("texts_copy") + " AS SELECT * FROM " + t);
    Row copy = spark.table(table("texts_copy")).first();
    assertThat(copy.getLong(0)).isEqualTo(1L);
    assertThat(copy.getString(1)).isEqualTo("abcde");
    assertThat(copy.getString(2).trim()).isEqualTo("xy");
    assertThat(copy.getString(3)).hasSize(9000);
    assertThat(copy.getString(4)).isEqualTo("free");
    assertThat(jdbcCount("texts_copy")).isEqualTo(1);

    // Where Spark keeps CHAR/VARCHAR as types of their own, the values still bind as strings
    // (they found no binding before). Spark's JDBC reader cannot read such columns in that mode,
    // so the check reads with the setting off.
    spark.conf().set("spark.sql.preserveCharVarcharTypeInfo", "true");
    try {
      spark
          .sql("SELECT 3L AS id, 'vwxyz' AS v, 'abc' AS c, 'b' AS big, 'u' AS u")
          .writeTo(t)
          .append();
      spark
          .sql("SELECT 4L AS id, 'v' AS v, 'c' AS c, 'b' AS big, 'u' AS u")
          .writeTo(table("texts_copy"))
          .append();
    } finally {
      spark.conf().unset("spark.sql.preserveCharVarcharTypeInfo");
    }
    assertThat(
            spark.table(t).orderBy("id").collectAsList().stream()
                .map(row -> row.getLong(0) + ":" + row.getString(1) + ":" + row.getString(2).trim())
                .toList())
        .containsExactly("1:abcde:xy", "3:vwxyz:abc");
    assertThat(jdbcCount("texts_copy")).isEqualTo(2);
    assertNoStagingTables();
  }

  /**
   * Rows of several MiB each stream through (COPY sends its buffer whenever it is full; INSERT
   * batches are flushed by bytes as well as rows) and arrive whole.
   */
  @Test
  void rowsOfSeveralMebibytesEachAreWrittenWhole() throws Exception {
    // H2's CHARACTER VARYING holds at most 1,048,576 characters.
    int chars = kind() == DatabaseKind.H2 ? 1_000_000 : 3 << 20;
    String t = table("blobs");
    spark.sql("CREATE TABLE " + t + " (id BIGINT, body STRING)");
    spark
        .range(0, 24, 1, 2)
        .selectExpr("id", "repeat(cast(id % 10 as string), " + chars + ") AS body")
        .writeTo(t)
        .append();

    List<Row> got =
        spark
            .table(t)
            .selectExpr("id", "length(body)", "substr(body, -1)")
            .orderBy("id")
            .collectAsList();
    assertThat(got).hasSize(24);
    for (Row r : got) {
      assertThat(r.getInt(1)).isEqualTo(chars);
      assertThat(r.getString(2)).isEqualTo(String.valueOf(r.getLong(0) % 10));
    }
    assertNoStagingTables();
  }

  // ---- writes that would reach beyond the target --------------------------------------------

  @Test
  void replacingRowsThatCascadingForeignKeysReferenceIsRefusedUnlessAllowed() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("parent")
            + " ("
            + db.quote("id")
            + " BIGINT NOT NULL PRIMARY KEY, "
            + db.quote("day")
            + " VARCHAR(10), "
            + db.quote("amount")
            + " DOUBLE PRECISION)",
        "CREATE TABLE "
            + db.qualified("child")
            + " ("
            + db.quote("pid")
            + " BIGINT, FOREIGN KEY ("
            + db.quote("pid")
            + ") REFERENCES "
            + db.qualified("parent")
            + " ("
            + db.quote("id")
            + ") ON DELETE CASCADE)");
    String t = table("parent");
    events(0, 6).writeTo(t).append();
    db.execute("INSERT INTO " + db.qualified("child") + " VALUES (1)");

    assertThatThrownBy(() -> events(10, 12).writeTo(t).overwrite(lit(true)))
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("child.pid (ON DELETE CASCADE)")
        .hasMessageContaining("'allowCascadingDeletes'='true'");
    assertThatThrownBy(() -> events(10, 12).writeTo(t).overwritePartitions())
        .hasMessageContaining("child.pid");
    assertThat(rows(t)).isEqualTo(expected(0, 6));
    assertThat(jdbcCount("child")).isEqualTo(1);

    events(6, 8).writeTo(t).append(); // appends delete nothing: allowed
    events(10, 12).writeTo(t).option("allowCascadingDeletes", "true").overwrite(lit(true));
    assertThat(rows(t)).isEqualTo(expected(10, 12));
    assertThat(jdbcCount("child")).isZero();
    assertNoStagingTables();
  }

  // ---- a COMMIT whose answer is lost (run by the subclasses through a TCP proxy) -------------

  /**
   * The connection breaks exactly at the publish's COMMIT: once after the server got it (the write
   * committed: the job must succeed, not report a failure or write twice), once before (it rolled
   * back: the job must fail saying so, with the table unchanged). Both are decided by the ledger.
   */
  void unconfirmedCommitIsResolvedFromTheLedger() throws Exception {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("//([^:/]+):(\\d+)").matcher(db.userUrl());
    assertThat(m.find()).isTrue();
    unconfirmedCommitIsResolvedFromTheLedger(
        m.group(1),
        Integer.parseInt(m.group(2)),
        port -> db.userUrl().replace(m.group(1) + ":" + m.group(2), "127.0.0.1:" + port));
  }

  /**
   * The same through a proxy in front of {@code host:port}; {@code url} names the proxy's port. The
   * writes through the proxy are a second database user's, into a table the test's own user created
   * and wrote first (so its ledger and lock table exist and belong to another user).
   */
  void unconfirmedCommitIsResolvedFromTheLedger(
      String host, int port, java.util.function.IntFunction<String> url) throws Exception {
    try (io.tessera.testing.CommitCuttingProxy proxy =
        // Text only the publish's ledger INSERT holds (the ledger's CREATE and the privilege
        // checks before the tasks name the ledger too).
        new io.tessera.testing.CommitCuttingProxy(
            host, port, db.quote("committed_at_ms") + ") VALUES")) {
      String viaProxy = io.tessera.testing.Names.unique("cut");
      String second = db.createUser(io.tessera.testing.Names.unique("etl"), "Second-Pw-42", true);
      registerCatalog(viaProxy, url.apply(proxy.port()), second, "Second-Pw-42");
      createEvents("events", 5, "");
      db.grant("SELECT, INSERT, DELETE", "events", second);
      String t = viaProxy + "." + db.schema() + ".events";

      proxy.arm(io.tessera.testing.CommitCuttingProxy.Cut.AFTER_COMMIT);
      events(5, 9).writeTo(t).append();
      assertThat(proxy.cutDone()).isTrue();
      assertThat(rows(table("events"))).isEqualTo(expected(0, 9));

      proxy.arm(io.tessera.testing.CommitCuttingProxy.Cut.BEFORE_COMMIT);
      assertThatThrownBy(() -> events(100, 110).writeTo(t).overwrite(lit(true)))
          .hasMessageContaining("[COMMIT_FAILED]")
          .hasMessageContaining("the ledger shows it did not commit: the table is unchanged");
      assertThat(proxy.cutDone()).isTrue();
      assertThat(rows(table("events"))).isEqualTo(expected(0, 9));
      assertNoStagingTables();

      // The server got the COMMIT, then refuses the one connection that would look the outcome
      // up: it cannot be learned. The job fails saying so, and the staging table and the ledger
      // row stay as the evidence, although Spark's abort that follows could reach the database.
      proxy.arm(io.tessera.testing.CommitCuttingProxy.Cut.AFTER_COMMIT, 1);
      assertThatThrownBy(() -> events(9, 12).writeTo(t).append())
          .hasMessageContaining("[COMMIT_OUTCOME_UNKNOWN]")
          .hasMessageContaining("the staging table");
      assertThat(rows(table("events"))).as("it did commit").isEqualTo(expected(0, 12));
      List<String> kept = db.tables().stream().filter(n -> n.startsWith("tessera_stg_")).toList();
      assertThat(kept).as("staging tables kept").hasSize(1);
      assertThat(ledgerRows()).as("ledger rows kept").isEqualTo(1);
      db.execute("DROP TABLE " + db.qualified(kept.get(0)));
      for (String ledger : db.ledgerTables()) {
        db.execute("DELETE FROM " + db.qualified(ledger));
      }
      assertNoStagingTables();
    }
  }

  // ---- concurrent writers -------------------------------------------------------------------

  /**
   * Two overwrites of one table publish at the same moment: the result must be one of them, never
   * both. A test transaction holds a row lock of the table until both publishes wait behind it,
   * then lets them go together.
   */
  @Test
  void concurrentOverwritesEndAsOneSerialOrder() throws Exception {
    String t = createEvents("events", 10, "");
    List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (java.sql.Connection blocker = db.connect()) {
      if (kind() == DatabaseKind.H2) {
        blocker.createStatement().execute("SET DEFAULT_LOCK_TIMEOUT 60000");
      }
      blocker.setAutoCommit(false);
      blocker
          .createStatement()
          .executeUpdate(
              "DELETE FROM " + db.qualified("events") + " WHERE " + db.quote("id") + " = 0");
      Thread a = writer(() -> events(100, 110).writeTo(t).overwrite(lit(true)), failures);
      Thread b = writer(() -> events(200, 212).writeTo(t).overwrite(lit(true)), failures);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> db.sessionsWaitingForLocks() >= 2);
      blocker.rollback();
      a.join(60_000);
      b.join(60_000);
    }
    assertThat(failures).isEmpty();
    assertThat(rows(t)).isIn(expected(100, 110), expected(200, 212));
    assertNoStagingTables();
  }

  /**
   * While the tasks run, another session inserts a row into the staging table, as an attempt still
   * loading would (a speculative copy Spark has not killed yet), and keeps its transaction open
   * through the publish. The publish must neither wait for it (MariaDB's default REPEATABLE READ
   * made INSERT ... SELECT lock the rows it read) nor publish its row, and dropping the staging
   * table, which that session's locks block, must give up after its short lock timeout and leave
   * the table to the cleanup procedure instead of hanging the job.
   */
  @Test
  void aStillLoadingAttemptNeitherBlocksNorLeaksIntoThePublish() throws Exception {
    String t = createEvents("events", 5, "");
    spark
        .udf()
        .register(
            "pause_on",
            (org.apache.spark.sql.api.java.UDF2<Long, Long, Long>)
                (id, at) -> {
                  if (id.equals(at)) {
                    Thread.sleep(3000);
                  }
                  return id;
                },
            org.apache.spark.sql.types.DataTypes.LongType);
    List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (java.sql.Connection zombie = db.connect()) {
      zombie.setAutoCommit(false);
      Thread write =
          writer(
              () ->
                  events(5, 9)
                      .selectExpr("pause_on(id, 5L) AS id", "day", "amount")
                      .writeTo(t)
                      .append(),
              failures);
      String staging =
          org.awaitility.Awaitility.await()
              .atMost(java.time.Duration.ofSeconds(30))
              .until(
                  () -> db.tables().stream().filter(n -> n.startsWith("tessera_stg_")).findFirst(),
                  java.util.Optional::isPresent)
              .get();
      zombie
          .createStatement()
          .executeUpdate(
              "INSERT INTO "
                  + db.qualified(staging)
                  + " ("
                  + db.quote("id")
                  + ", "
                  + db.quote("day")
                  + ", "
                  + db.quote("amount")
                  + ", "
                  + db.quote(io.tessera.jdbc.dialect.JdbcDialect.ATTEMPT_COLUMN)
                  + ") VALUES (666, 'zombie', 6.0, 987654321)");
      write.join(60_000);
      assertThat(write.isAlive()).as("the write still waits, 60 s after it started").isFalse();
      assertThat(failures).isEmpty();
      assertThat(rows(t)).isEqualTo(expected(0, 9));
      if (kind() == DatabaseKind.MARIADB) {
        // The staging table is Aria without transactions: the zombie's insert holds no lock past
        // its statement, so the drop goes through at once.
        assertThat(db.tables()).as("the staging table").doesNotContain(staging);
        zombie.rollback();
      } else {
        assertThat(db.tables()).as("the staging table the zombie locks is left").contains(staging);
        zombie.rollback();
        db.execute("DROP TABLE " + db.qualified(staging));
      }
    }
    assertNoStagingTables();
  }

  static Thread writer(ThrowingRunnable write, List<Throwable> failures) {
    Thread th =
        new Thread(
            () -> {
              try {
                write.run();
              } catch (Throwable e) {
                failures.add(e);
              }
            });
    th.start();
    return th;
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }

  // ---- faults -----------------------------------------------------------------------------

  @Test
  void taskFailingOnFirstAttemptIsRetriedWithoutDuplicates() throws Exception {
    String t = createEvents("events", 0, "");
    events(0, 400)
        .selectExpr("fail_first_attempt(id, 137L) as id", "day", "amount")
        .writeTo(t)
        .append();

    assertThat(rows(t)).isEqualTo(expected(0, 400));
    assertThat(jdbcCount("events")).isEqualTo(400);
    assertNoStagingTables();
  }

  @Test
  void alwaysFailingTaskLeavesTargetUnchangedInEveryMode() throws Exception {
    String t = createEvents("events", 30, "PARTITIONED BY (day)");
    Dataset<Row> failing =
        events(100, 500).selectExpr("fail_always(id, 333L) as id", "day", "amount");

    assertThatThrownBy(() -> failing.writeTo(t).append())
        .hasStackTraceContaining("injected failure, id 333");
    assertThatThrownBy(() -> failing.writeTo(t).overwrite(lit(true)))
        .hasStackTraceContaining("injected failure");
    assertThatThrownBy(() -> failing.writeTo(t).overwrite(col("day").equalTo("d1")))
        .hasStackTraceContaining("injected failure");
    assertThatThrownBy(() -> failing.writeTo(t).overwritePartitions())
        .hasStackTraceContaining("injected failure");

    assertThat(rows(t)).isEqualTo(expected(0, 30));
    assertThat(jdbcCount("events")).isEqualTo(30);
    assertNoStagingTables();
  }

  @Test
  void failingDriverCommitRollsBackAndLeavesTargetUnchanged() throws Exception {
    // The database refuses the publish: the target has a primary key and the new rows repeat an
    // id. Tasks stage fine (staging tables have no constraints); the commit transaction fails.
    db.execute(
        "CREATE TABLE "
            + db.qualified("keyed")
            + " ("
            + db.quote("id")
            + " BIGINT NOT NULL PRIMARY KEY, "
            + db.quote("day")
            + " VARCHAR(10), "
            + db.quote("amount")
            + " DOUBLE PRECISION)");
    String t = table("keyed");
    events(0, 10).writeTo(t).append();
    Dataset<Row> duplicated = events(0, 5).union(events(4, 6));

    assertThatThrownBy(() -> duplicated.writeTo(t).overwrite(lit(true)))
        .hasMessageContaining("[COMMIT_FAILED]")
        .hasMessageContaining("rolled back; the table is unchanged");
    assertThatThrownBy(() -> events(9, 12).writeTo(t).append())
        .hasMessageContaining("[COMMIT_FAILED]");

    assertThat(rows(t)).isEqualTo(expected(0, 10));
    assertNoStagingTables();
  }

  // ---- hostile input ----------------------------------------------------------------------

  @Test
  void schemaMismatchFailsBeforeWriting() throws Exception {
    String t = createEvents("events", 3, "");
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 'not a number' as id, 'd' as day, 1.0d as amount")
                    .writeTo(t)
                    .append())
        .hasMessageContaining("id");
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 1L as id, 'd' as day, 1.0d as amount, 'x' as surplus")
                    .writeTo(t)
                    .append())
        .hasMessageContaining("surplus");
    assertThat(rows(t)).isEqualTo(expected(0, 3));
    assertNoStagingTables();
  }

  @Test
  void nullIntoNotNullColumnFailsAndLeavesTargetUnchanged() throws Exception {
    String t = createEvents("events", 3, "");
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT cast(null as bigint) as id, 'd' as day, 1.0d as amount")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("id");
    assertThat(rows(t)).isEqualTo(expected(0, 3));
    assertNoStagingTables();
  }

  @Test
  void decimalOverflowFailsAndLeavesTargetUnchanged() throws Exception {
    String t = table("money");
    spark.sql("CREATE TABLE " + t + " (id BIGINT, price DECIMAL(5,2))");
    spark.sql("SELECT 1L as id, cast(12.5 as decimal(5,2)) as price").writeTo(t).append();

    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 2L as id, cast(123456.789 as decimal(9,3)) as price")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("price");
    assertThat(
            spark
                .table(t)
                .selectExpr("cast(price as string)")
                .as(Encoders.STRING())
                .collectAsList())
        .containsExactly("12.50");
    assertNoStagingTables();
  }

  @Test
  void unknownOptionFailsNamingTheNearestOne() throws Exception {
    String t = createEvents("events", 3, "");
    assertThatThrownBy(() -> events(3, 4).writeTo(t).option("batchsise", "10").append())
        .hasMessageContaining(
            "[UNKNOWN_OPTION] Unknown option 'batchsise' for tessera-jdbc; did you mean 'batchSize'?");
    assertThatThrownBy(() -> events(3, 4).writeTo(t).option("batchSize", "-1").append())
        .hasMessageContaining(
            "Option 'batchSize' has value '-1' but expects a whole number between 1 and 1000000");
    assertThat(rows(t)).isEqualTo(expected(0, 3));
  }

  @Test
  void unsupportedColumnTypeFailsClearly() {
    assertThatThrownBy(
            () -> spark.sql("CREATE TABLE " + table("arr") + " (id BIGINT, tags ARRAY<STRING>)"))
        .hasMessageContaining("[UNSUPPORTED_TYPE] Column 'tags' has type ARRAY<STRING>");
  }

  @Test
  void hostileTableAndColumnNamesWorkAndNeverInject() throws Exception {
    String name = "we\"ird`; DROP TABLE x; -- t";
    String t = catalog + "." + db.schema() + ".`" + name.replace("`", "``") + "`";
    spark.sql(
        "CREATE TABLE " + t + " (`i\"d; --` BIGINT, `da`` y` STRING) PARTITIONED BY (`da`` y`)");
    spark.sql("SELECT 1L as `i\"d; --`, 'x' as `da`` y`").writeTo(t).append();
    spark.sql("SELECT 2L as `i\"d; --`, 'y' as `da`` y`").writeTo(t).append();
    spark.sql("SELECT 3L as `i\"d; --`, 'x' as `da`` y`").writeTo(t).overwritePartitions();
    spark
        .sql("SELECT 4L as `i\"d; --`, 'y' as `da`` y`")
        .writeTo(t)
        .overwrite(col("`da`` y`").equalTo("y"));

    assertThat(spark.table(t).orderBy("`i\"d; --`").collectAsList().toString())
        .isEqualTo("[[3,x], [4,y]]");
    assertThat(db.tables()).containsExactly(name);
  }
}
