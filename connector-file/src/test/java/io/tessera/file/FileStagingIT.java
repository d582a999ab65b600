package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.Names;
import io.tessera.testing.ReplaceWhileReading;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Atomic CTAS / RTAS / CREATE OR REPLACE through {@link FileCatalog}: one log entry publishes the
 * new schema, partitioning and files; a failure leaves the old table exactly as it was.
 */
class FileStagingIT {
  static SparkSession spark;
  String catalog;
  Path warehouse;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    FaultInjection.register(spark);
  }

  @BeforeEach
  void registerCatalog() {
    catalog = Names.unique("files");
    warehouse = TestPaths.newFolder("warehouse");
    spark.conf().set("spark.sql.catalog." + catalog, FileCatalog.class.getName());
    spark.conf().set("spark.sql.catalog." + catalog + ".warehouse", warehouse.toString());
    spark.sql("CREATE NAMESPACE " + catalog + ".db");
  }

  String table(String name) {
    return catalog + ".db." + name;
  }

  static Dataset<Row> events(long from, long to) {
    return spark
        .range(from, to, 1, 3)
        .selectExpr(
            "id",
            "concat('n', cast(id as string)) as name",
            "concat('d', cast(id % 3 as string)) as day");
  }

  static List<String> rows(Dataset<Row> df) {
    return df.orderBy("id").collectAsList().stream()
        .map(Row::toString)
        .collect(Collectors.toList());
  }

  List<String> rows(String t) {
    return rows(spark.table(t));
  }

  List<String> columns(String t) {
    return List.of(spark.table(t).schema().fieldNames());
  }

  List<String> partitionColumns(String t) {
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (Row r : spark.sql("DESCRIBE TABLE " + t).collectAsList()) {
      String c = r.getString(0);
      if (c.startsWith("# Partition Information")) {
        in = true;
      } else if (in && c.isBlank()) {
        break;
      } else if (in && !c.startsWith("#")) {
        out.add(c);
      }
    }
    return out;
  }

  /** Every file under the table folder except the commit log, relative and sorted. */
  List<String> files(String name) throws IOException {
    Path root = warehouse.resolve("db").resolve(name);
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString())
          .filter(p -> !p.startsWith("_tessera/log/"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @Test
  void ctasThroughSqlAndWriterV2CreatesExactTables() throws Exception {
    String view = Names.unique("src");
    events(0, 30).createOrReplaceTempView(view);
    String t1 = table("by_sql");
    spark.sql("CREATE TABLE " + t1 + " USING orc PARTITIONED BY (day) AS SELECT * FROM " + view);
    String t2 = table("by_api");
    events(5, 9).writeTo(t2).create();

    assertThat(rows(t1)).isEqualTo(rows(events(0, 30)));
    assertThat(columns(t1)).containsExactly("id", "name", "day");
    assertThat(partitionColumns(t1)).containsExactly("day");
    assertThat(files("by_sql"))
        .allMatch(f -> f.startsWith("day=d"))
        .anyMatch(f -> f.endsWith(".orc"));
    assertThat(rows(t2)).isEqualTo(rows(events(5, 9)));
    assertThat(files("by_api")).noneMatch(f -> f.startsWith("_tessera/staging"));
  }

  @Test
  void ctasIntoAnExistingTableFailsAndWritesNothing() throws Exception {
    String t = table("events");
    events(0, 5).writeTo(t).create();
    List<String> before = files("events");

    assertThatThrownBy(() -> events(100, 200).writeTo(t).create())
        .hasMessageContaining("already exists");
    assertThatThrownBy(() -> spark.sql("CREATE TABLE " + t + " AS SELECT 1L AS id"))
        .hasMessageContaining("already exists");
    assertThat(rows(t)).isEqualTo(rows(events(0, 5)));
    assertThat(files("events")).isEqualTo(before);
  }

  @Test
  void failingCtasLeavesNoTableAndNoFolder() throws Exception {
    String t = table("never");
    Dataset<Row> failing = events(0, 300).selectExpr("fail_always(id, 123L) as id", "name", "day");

    assertThatThrownBy(() -> failing.writeTo(t).create())
        .hasStackTraceContaining("injected failure, id 123");
    assertThat(spark.catalog().tableExists(t)).isFalse();
    assertThat(warehouse.resolve("db").resolve("never")).doesNotExist();
  }

  @Test
  void replaceChangesSchemaRowsPartitioningAndFormat() throws Exception {
    String t = table("events");
    events(0, 12).writeTo(t).partitionedBy(org.apache.spark.sql.functions.col("day")).create();

    spark.sql(
        "REPLACE TABLE "
            + t
            + " USING json PARTITIONED BY (region) AS SELECT id, 'r' || cast(id % 2 as string)"
            + " AS region, cast(id * 10 as int) AS score FROM range(5)");

    assertThat(columns(t)).containsExactly("id", "region", "score");
    assertThat(partitionColumns(t)).containsExactly("region");
    assertThat(spark.table(t).orderBy("id").collectAsList().toString())
        .isEqualTo("[[0,r0,0], [1,r1,10], [2,r0,20], [3,r1,30], [4,r0,40]]");
    assertThat(files("events")).noneMatch(f -> f.startsWith("_tessera/staging"));
  }

  @Test
  void createOrReplaceCreatesThenReplacesThroughEveryEntryPoint() throws Exception {
    String t = table("events");
    events(0, 3).writeTo(t).createOrReplace();
    assertThat(rows(t)).isEqualTo(rows(events(0, 3)));

    events(10, 14).writeTo(t).createOrReplace();
    assertThat(rows(t)).isEqualTo(rows(events(10, 14)));

    events(20, 22).writeTo(t).replace();
    assertThat(rows(t)).isEqualTo(rows(events(20, 22)));

    String view = Names.unique("src");
    events(30, 35).createOrReplaceTempView(view);
    spark.sql("CREATE OR REPLACE TABLE " + t + " AS SELECT * FROM " + view);
    assertThat(rows(t)).isEqualTo(rows(events(30, 35)));

    events(40, 41).write().mode(SaveMode.Overwrite).saveAsTable(t);
    assertThat(rows(t)).isEqualTo(rows(events(40, 41)));
  }

  @Test
  void failingReplaceLeavesTheOldTableExactlyAsItWas() throws Exception {
    String t = table("events");
    events(0, 30).writeTo(t).partitionedBy(org.apache.spark.sql.functions.col("day")).create();
    List<String> before = files("events");
    Dataset<Row> failing =
        events(100, 400).selectExpr("fail_always(id, 333L) as id", "'other' as label");

    ReplaceWhileReading.assertEveryReplaceFails(spark, failing, t, "injected failure, id 333");

    assertThat(rows(t)).isEqualTo(rows(events(0, 30)));
    assertThat(columns(t)).containsExactly("id", "name", "day");
    assertThat(partitionColumns(t)).containsExactly("day");
    assertThat(files("events")).isEqualTo(before);
  }

  /**
   * A reader through the catalog sees one whole generation per query while the table is replaced.
   */
  @Test
  void readerDuringReplaceSeesTheOldOrTheNewTableWhole() throws Exception {
    String t = table("live");
    spark.sql(ReplaceWhileReading.createSql(t));
    ReplaceWhileReading.run(
            spark,
            t,
            4,
            () -> {
              Row r = spark.sql("SELECT count(*), min(gen), max(gen) FROM " + t).first();
              return new Object[] {r.getLong(0), r.getString(1), r.getString(2)};
            })
        .assertEveryReadWhole(e -> false);
    assertThat(spark.table(t).count()).isEqualTo(1400);
  }

  static final java.util.concurrent.CountDownLatch APPEND_STARTED =
      new java.util.concurrent.CountDownLatch(1);
  static final java.util.concurrent.CountDownLatch RELEASE_APPEND =
      new java.util.concurrent.CountDownLatch(1);

  /** An append planned for the old table must not commit its files into the replaced one. */
  @Test
  void appendPlannedBeforeAReplaceFailsInsteadOfMixingFiles() throws Exception {
    spark
        .udf()
        .register(
            "hold_row_zero",
            (org.apache.spark.sql.api.java.UDF1<Long, Long>)
                id -> {
                  if (id == 0L) {
                    APPEND_STARTED.countDown();
                    RELEASE_APPEND.await(60, java.util.concurrent.TimeUnit.SECONDS);
                  }
                  return id;
                },
            org.apache.spark.sql.types.DataTypes.LongType);
    String t = table("events");
    events(100, 103).writeTo(t).create();
    List<Throwable> appendError = Collections.synchronizedList(new ArrayList<>());
    Thread append =
        new Thread(
            () -> {
              try {
                events(0, 30)
                    .selectExpr("hold_row_zero(id) as id", "name", "day")
                    .writeTo(t)
                    .append();
              } catch (Throwable e) {
                appendError.add(e);
              }
            });
    append.start();
    assertThat(APPEND_STARTED.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    spark.sql("REPLACE TABLE " + t + " USING json AS SELECT id, id * 2 AS twice FROM range(4)");
    RELEASE_APPEND.countDown();
    append.join(60_000);

    assertThat(appendError).hasSize(1);
    assertThat(appendError.get(0))
        .hasMessageContaining("[COMMIT_FAILED] Concurrent write")
        .hasMessageContaining("the table was replaced or altered");
    assertThat(columns(t)).containsExactly("id", "twice");
    assertThat(spark.table(t).orderBy("id").collectAsList().toString())
        .isEqualTo("[[0,0], [1,2], [2,4], [3,6]]");
  }
}
