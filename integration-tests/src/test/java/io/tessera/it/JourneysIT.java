package io.tessera.it;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import io.tessera.testing.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The user journeys, end to end through registered catalogs, with the exact contents checked after
 * every step: the six {@code writeTo} verbs, the SQL statements (CTAS, INSERT INTO, INSERT
 * OVERWRITE, RTAS, CALL cleanup), and streaming queries with {@code Trigger.ProcessingTime} that
 * are stopped and restarted from their checkpoint.
 */
class JourneysIT {
  enum Store {
    H2,
    POSTGRESQL,
    MARIADB,
    FILE
  }

  private static SparkSession spark;
  private static Path warehouse;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    warehouse = TestPaths.newFolder("journeys-warehouse");
    spark.conf().set("spark.sql.catalog.j_files", "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog.j_files.warehouse", warehouse.toString());
  }

  /** Rows {@code from..to-1}, each in partition day d0 (even ids) or d1 (odd ids). */
  private static Dataset<Row> rows(long from, long to) {
    return spark
        .range(from, to)
        .selectExpr("id", "concat('name-', id) AS name", "concat('d', id % 2) AS day");
  }

  private static Dataset<Row> rows(long from, long to, String day) {
    return spark
        .range(from, to)
        .selectExpr("id", "concat('name-', id) AS name", "'" + day + "' AS day");
  }

  private static List<Long> ids(String table) {
    return spark.table(table).select("id").as(Encoders.LONG()).collectAsList().stream()
        .sorted()
        .toList();
  }

  private static List<Long> range(long from, long to) {
    return LongStream.range(from, to).boxed().toList();
  }

  private static List<Long> concat(List<Long> a, List<Long> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).sorted().toList();
  }

  @ParameterizedTest
  @EnumSource(Store.class)
  void batchAndSqlJourney(Store store) throws Exception {
    TestDatabase db = null;
    String ns;
    String catalog;
    if (store == Store.FILE) {
      catalog = "j_files";
      ns = Names.unique("j");
      spark.sql("CREATE NAMESPACE " + catalog + "." + ns);
    } else {
      db = TestDatabase.create(DatabaseKind.valueOf(store.name()));
      catalog = "j_" + db.schema();
      spark.conf().set("spark.sql.catalog." + catalog, "io.tessera.jdbc.JdbcCatalog");
      spark.conf().set("spark.sql.catalog." + catalog + ".url", db.url());
      if (store != Store.H2) {
        spark.conf().set("spark.sql.catalog." + catalog + ".user", db.user());
        spark.conf().set("spark.sql.catalog." + catalog + ".password", db.password());
      }
      ns = db.schema();
    }
    try {
      String t = catalog + "." + ns + ".events";
      // writeTo: create, append, overwrite(condition), overwritePartitions, replace,
      // createOrReplace
      rows(0, 10).writeTo(t).partitionedBy(col("day")).create();
      assertThat(ids(t)).isEqualTo(range(0, 10));
      rows(10, 20).writeTo(t).append();
      assertThat(ids(t)).isEqualTo(range(0, 20));
      rows(100, 105, "d0").writeTo(t).overwrite(col("day").equalTo("d0"));
      List<Long> odd = LongStream.range(0, 20).filter(i -> i % 2 == 1).boxed().toList();
      assertThat(ids(t)).isEqualTo(concat(odd, range(100, 105)));
      rows(200, 203, "d1").writeTo(t).overwritePartitions();
      assertThat(ids(t)).isEqualTo(concat(range(100, 105), range(200, 203)));
      rows(300, 302).writeTo(t).replace();
      assertThat(ids(t)).isEqualTo(range(300, 302));
      rows(400, 404).writeTo(t).createOrReplace();
      assertThat(ids(t)).isEqualTo(range(400, 404));
      rows(500, 502).writeTo(catalog + "." + ns + ".fresh").createOrReplace();
      assertThat(ids(catalog + "." + ns + ".fresh")).isEqualTo(range(500, 502));

      // SQL: CTAS, INSERT INTO, INSERT OVERWRITE, RTAS, CALL cleanup
      String t2 = catalog + "." + ns + ".copy";
      spark.sql("CREATE TABLE " + t2 + " AS SELECT * FROM " + t);
      assertThat(ids(t2)).isEqualTo(range(400, 404));
      spark.sql("INSERT INTO " + t2 + " SELECT id + 1000, name, day FROM " + t);
      assertThat(ids(t2)).isEqualTo(concat(range(400, 404), range(1400, 1404)));
      spark.sql("INSERT OVERWRITE " + t2 + " SELECT id + 2000, name, day FROM " + t);
      assertThat(ids(t2)).isEqualTo(range(2400, 2404));
      spark.sql(
          "REPLACE TABLE "
              + t2
              + " AS SELECT id + 3000 AS id, name, day FROM "
              + t
              + " WHERE id < 402");
      assertThat(ids(t2)).isEqualTo(range(3400, 3402));
      List<Row> cleanup =
          spark
              .sql(
                  store == Store.FILE
                      ? "CALL "
                          + catalog
                          + ".system.cleanup(table => '"
                          + ns
                          + ".copy', older_than_minutes => 60)"
                      : "CALL "
                          + catalog
                          + ".system.cleanup(namespace => '"
                          + ns
                          + "', older_than_minutes => 60)")
              .collectAsList();
      assertThat(cleanup).as("nothing is old enough to clean").isEmpty();
      assertThat(ids(t2)).isEqualTo(range(3400, 3402));
      if (db != null) {
        assertThat(db.tables())
            .as("tables in the schema")
            .containsExactlyInAnyOrder("events", "fresh", "copy");
      }

      // Streaming into the same JDBC table, exactly once: three micro-batches carry rows, the
      // later ones none.
      if (db != null) {
        org.apache.spark.sql.streaming.StreamingQuery q =
            spark
                .readStream()
                .format("rate-micro-batch")
                .option("rowsPerBatch", 10)
                .load()
                .where("value < 30")
                .selectExpr("value + 10000 AS id", "'x' AS name", "'d0' AS day")
                .writeStream()
                .option("checkpointLocation", TestPaths.newFolder("j-chk").toString())
                .trigger(org.apache.spark.sql.streaming.Trigger.ProcessingTime("100 milliseconds"))
                .toTable(t);
        try {
          org.awaitility.Awaitility.await()
              .atMost(java.time.Duration.ofSeconds(120))
              .until(() -> q.lastProgress() != null && q.lastProgress().batchId() >= 3);
        } finally {
          q.stop();
        }
        assertThat(ids(t)).isEqualTo(concat(range(400, 404), range(10_000, 10_030)));
      }
    } finally {
      if (db != null) {
        db.close();
      }
    }
  }

  @org.junit.jupiter.api.Test
  void fileStreamingStoppedAndRestartedFromItsCheckpoint() throws Exception {
    String ns = Names.unique("js");
    spark.sql("CREATE NAMESPACE j_files." + ns);
    String t = "j_files." + ns + ".stream";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING) USING parquet");
    Path checkpoint = TestPaths.newFolder("j-stream").resolve("checkpoint");
    for (int run = 1; run <= 2; run++) {
      StreamingQuery q = startRate(checkpoint).toTable(t);
      long target = run * 3L;
      await().atMost(Duration.ofSeconds(60)).until(() -> committedBatches(q) >= target);
      q.stop();
    }
    List<Long> ids = ids(t);
    // Whole epochs of 100 rows, each row once, no gap.
    assertThat(ids.size() % 100).isZero();
    assertThat(ids).isEqualTo(range(0, ids.size()));
    assertThat(ids.size()).isGreaterThanOrEqualTo(600);
  }

  @org.junit.jupiter.api.Test
  void kafkaStreamingStoppedAndRestartedFromItsCheckpoint() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = broker.newTopic("j_stream", 2);
    spark.conf().set("spark.sql.catalog.j_kafka", "io.tessera.kafka.KafkaCatalog");
    spark.conf().set("spark.sql.catalog.j_kafka.bootstrap.servers", broker.bootstrapServers());
    Path checkpoint = TestPaths.newFolder("j-kafka").resolve("checkpoint");
    for (int run = 1; run <= 2; run++) {
      StreamingQuery q =
          spark
              .readStream()
              .format("rate-micro-batch")
              .option("rowsPerBatch", 100)
              .option("numPartitions", 2)
              .load()
              // Six epochs carry rows, later ones none, so the last stop() interrupts nothing.
              .where("value < 600")
              .selectExpr("CAST(value AS STRING) AS key", "concat('name-', value) AS value")
              .writeStream()
              .option("checkpointLocation", checkpoint.toString())
              .trigger(Trigger.ProcessingTime("1 second"))
              .toTable("j_kafka." + topic);
      long target = run == 1 ? 3 : 8;
      await().atMost(Duration.ofSeconds(60)).until(() -> committedBatches(q) >= target);
      q.stop();
    }
    Map<Long, Long> perKey = broker.countsPerNumericKey(topic);
    // At-least-once: every id of the committed epochs is there; an epoch interrupted by stop() is
    // sent again after the restart.
    assertThat(perKey.keySet()).containsExactlyElementsOf(range(0, 600));
    long duplicates = perKey.values().stream().mapToLong(n -> n - 1).sum();
    assertThat(duplicates)
        .as("duplicates: at most the epoch the first stop() interrupted")
        .isLessThanOrEqualTo(100);
  }

  @org.junit.jupiter.api.Test
  void kafkaCatalogJourney() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    spark.conf().set("spark.sql.catalog.j_kafka", "io.tessera.kafka.KafkaCatalog");
    spark.conf().set("spark.sql.catalog.j_kafka.bootstrap.servers", broker.bootstrapServers());
    String topic = Names.unique("j_topic");
    String t = "j_kafka." + topic;
    spark.sql("CREATE TABLE " + t + " (key STRING, value STRING) TBLPROPERTIES (partitions = 3)");
    assertThat(spark.sql("SHOW TABLES IN j_kafka").collectAsList().toString()).contains(topic);
    rows(0, 10).selectExpr("CAST(id AS STRING) AS key", "name AS value").writeTo(t).append();
    spark.sql(
        "INSERT INTO "
            + t
            + " SELECT CAST(id + 100 AS STRING) AS key, concat('name-', id) AS value FROM range(5)");
    // Replacing the records of a topic is not something Kafka can do atomically: refused.
    assertThatThrownBy(
            () ->
                rows(0, 1)
                    .selectExpr("CAST(id AS STRING) AS key", "name AS value")
                    .writeTo(t)
                    .overwrite(org.apache.spark.sql.functions.lit(true)))
        .hasMessageContaining(topic);
    assertThatThrownBy(() -> spark.sql("INSERT OVERWRITE " + t + " SELECT 'k', 'v'"))
        .hasMessageContaining(topic);
    List<String> keys =
        broker.readAll(topic, "read_uncommitted").stream()
            .map(r -> new String(r.key(), StandardCharsets.UTF_8))
            .sorted()
            .toList();
    List<String> expected =
        java.util.stream.Stream.concat(
                LongStream.range(0, 10).mapToObj(Long::toString),
                LongStream.range(100, 105).mapToObj(Long::toString))
            .sorted()
            .toList();
    assertThat(keys).isEqualTo(expected);
  }

  private static org.apache.spark.sql.streaming.DataStreamWriter<Row> startRate(Path checkpoint) {
    return spark
        .readStream()
        .format("rate-micro-batch")
        .option("rowsPerBatch", 100)
        .option("numPartitions", 2)
        .load()
        .selectExpr("value AS id", "concat('name-', value) AS name")
        .writeStream()
        .option("checkpointLocation", checkpoint.toString())
        .trigger(Trigger.ProcessingTime("1 second"));
  }

  private static long committedBatches(StreamingQuery q) {
    if (q.exception().isDefined()) {
      throw new AssertionError("the query failed", q.exception().get());
    }
    return q.lastProgress() == null ? 0 : q.lastProgress().batchId() + 1;
  }
}
