package io.tessera.file;

import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.LongStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Time travel (VERSION / TIMESTAMP AS OF), the history procedure, and retention of old files. */
class FileTimeTravelIT {
  static SparkSession spark;
  FileTableIT helper = new FileTableIT();
  String catalog;

  @BeforeEach
  void registerCatalog() {
    helper.registerCatalog();
    spark = FileTableIT.spark;
    catalog = helper.catalog;
  }

  List<String> rows(String sql) {
    return FileTableIT.strings(spark.sql(sql));
  }

  @Test
  void olderVersionsAreReadableByVersionAndTimestampWhileTheirFilesAreKept() throws Exception {
    String t = catalog + ".db.travel";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING) PARTITIONED BY (day)");
    FileTableIT.events(0, 10).writeTo(t).append(); // version 1
    Thread.sleep(30);
    long afterV1 = System.currentTimeMillis();
    Thread.sleep(30);
    FileTableIT.events(10, 20).writeTo(t).append(); // version 2
    FileTableIT.events(100, 105).writeTo(t).overwrite(lit(true)); // version 3

    assertThat(rows("SELECT * FROM " + t + " VERSION AS OF 1"))
        .isEqualTo(FileTableIT.expected(LongStream.range(0, 10)));
    assertThat(rows("SELECT * FROM " + t + " VERSION AS OF 2"))
        .isEqualTo(FileTableIT.expected(LongStream.range(0, 20)));
    assertThat(rows("SELECT * FROM " + t + " VERSION AS OF 3"))
        .isEqualTo(FileTableIT.expected(LongStream.range(100, 105)));
    assertThat(rows("SELECT * FROM " + t))
        .isEqualTo(FileTableIT.expected(LongStream.range(100, 105)));
    assertThat(rows("SELECT * FROM " + t + " TIMESTAMP AS OF timestamp_millis(" + afterV1 + ")"))
        .isEqualTo(FileTableIT.expected(LongStream.range(0, 10)));
    // A self-join of two versions: what changed between them.
    assertThat(
            spark
                .sql(
                    "SELECT count(*) FROM "
                        + t
                        + " VERSION AS OF 2 a LEFT ANTI JOIN "
                        + t
                        + " VERSION AS OF 1 b ON a.id = b.id")
                .first()
                .getLong(0))
        .isEqualTo(10L);

    assertThatThrownBy(() -> spark.sql("SELECT * FROM " + t + " VERSION AS OF 9").collect())
        .hasMessageContaining("VERSION AS OF 9: table " + t + " has no such version")
        .hasMessageContaining("its versions are 0..3");
    assertThatThrownBy(() -> spark.sql("SELECT * FROM " + t + " VERSION AS OF 'abc'").collect())
        .hasMessageContaining("VERSION AS OF 'abc' is not a version of");
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT * FROM " + t + " TIMESTAMP AS OF timestamp_millis(1000)")
                    .collect())
        .hasMessageContaining("is before table " + t + " was created");

    // The history, newest first.
    List<Row> history =
        spark.sql("CALL " + catalog + ".system.history(table => 'db.travel')").collectAsList();
    assertThat(history).extracting(r -> r.getLong(0)).containsExactly(3L, 2L, 1L, 0L);
    assertThat(history).extracting(r -> r.getString(2)).element(3).isEqualTo("create");
    assertThat(history).extracting(r -> r.getLong(5)).containsExactly(5L, 10L, 10L, 0L);
    assertThat(history).extracting(r -> r.getLong(6)).containsExactly(20L, 0L, 0L, 0L);
    assertThat(history.get(0).getLong(4))
        .isEqualTo(history.get(1).getLong(3) + history.get(2).getLong(3));
    assertThat(history.get(0).getTimestamp(1).getTime())
        .isGreaterThanOrEqualTo(history.get(1).getTimestamp(1).getTime());

    // Cleanup keeps removed files for the retention period (default 7 days)...
    spark
        .sql("CALL " + catalog + ".system.cleanup(table => 'db.travel', older_than_minutes => 0)")
        .collectAsList();
    assertThat(rows("SELECT * FROM " + t + " VERSION AS OF 1"))
        .isEqualTo(FileTableIT.expected(LongStream.range(0, 10)));
    // ...or for the table's own retentionHours property; after it, an old version fails
    // clearly instead of returning part of its rows.
    spark.sql("ALTER TABLE " + t + " SET TBLPROPERTIES ('retentionHours' = 'soon')");
    assertThatThrownBy(
            () ->
                spark
                    .sql(
                        "CALL "
                            + catalog
                            + ".system.cleanup(table => 'db.travel', older_than_minutes => 0)")
                    .collect())
        .hasMessageContaining("Table property 'retentionHours'")
        .hasMessageContaining("is 'soon' but must be a whole number of hours");
    spark.sql("ALTER TABLE " + t + " SET TBLPROPERTIES ('retentionHours' = '0')");
    List<Row> deleted =
        spark
            .sql(
                "CALL "
                    + catalog
                    + ".system.cleanup(table => 'db.travel', older_than_minutes => 0)")
            .collectAsList();
    assertThat(deleted).isNotEmpty();
    assertThatThrownBy(() -> spark.sql("SELECT * FROM " + t + " VERSION AS OF 1").collect())
        .hasMessageContaining("Version 1 of")
        .hasMessageContaining("can no longer be read")
        .hasMessageContaining("removed by cleanup");
    assertThat(rows("SELECT * FROM " + t))
        .isEqualTo(FileTableIT.expected(LongStream.range(100, 105)));
  }

  @Test
  void historyNamesTheStreamingQueryAndEpochOfEachCommit() throws Exception {
    String t = catalog + ".db.streamed";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING)");
    java.nio.file.Path input = io.tessera.testing.TestPaths.newFolder("history-in");
    java.nio.file.Files.writeString(
        input.resolve("1.json"), "{\"id\":1,\"name\":\"a\",\"day\":\"d\"}\n");
    org.apache.spark.sql.streaming.StreamingQuery q =
        spark
            .readStream()
            .schema("id BIGINT, name STRING, day STRING")
            .json(input.toString())
            .writeStream()
            .option(
                "checkpointLocation",
                io.tessera.testing.TestPaths.newFolder("history-ckpt").toString())
            .toTable(t);
    try {
      q.processAllAvailable();
      java.nio.file.Files.writeString(
          input.resolve("2.json"), "{\"id\":2,\"name\":\"b\",\"day\":\"d\"}\n");
      q.processAllAvailable();
    } finally {
      q.stop();
    }
    List<Row> history =
        spark.sql("CALL " + catalog + ".system.history(table => 'db.streamed')").collectAsList();
    assertThat(history).extracting(r -> r.getLong(0)).containsExactly(2L, 1L, 0L);
    assertThat(history.subList(0, 2))
        .extracting(r -> r.getString(7))
        .containsOnly(q.id().toString());
    assertThat(history)
        .extracting(r -> r.isNullAt(8) ? null : r.getLong(8))
        .containsExactly(1L, 0L, null);
    assertThat(history).extracting(r -> r.getLong(5)).containsExactly(1L, 1L, 0L);
  }
}
