package io.tessera.examples;

import static org.apache.spark.sql.functions.col;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The README's first command runs this: a local Spark job that registers Tessera's JDBC catalog
 * over an embedded H2 database (a file under target/quickstart), creates a partitioned table, and
 * appends, overwrites by condition and overwrites partitions, each as one atomic step, printing the
 * table after each; builds a summary with CREATE OR REPLACE TABLE ... AS SELECT (atomic); copies
 * the orders into a Parquet table of Tessera's file catalog; sends them to a Kafka topic of an
 * in-process broker; runs a short streaming query into a file table; and prints what was committed
 * where.
 */
public final class Quickstart {
  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of("target", "quickstart").toAbsolutePath());
    // A fresh embedded H2 database file on every run.
    Path h2 = work.resolve("h2");
    Files.deleteIfExists(h2.resolve("quickstart.mv.db"));
    Files.deleteIfExists(h2.resolve("quickstart.trace.db"));
    Path files = work.resolve("files-" + System.currentTimeMillis());
    System.out.println("Starting an in-process Kafka broker on 127.0.0.1 (for this demo only).");
    io.tessera.testing.KafkaBroker broker = io.tessera.testing.KafkaBroker.startPrivate();
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tessera-quickstart")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", work.resolve("warehouse").toString())
            .config("spark.sql.catalog.h2", "io.tessera.jdbc.JdbcCatalog")
            .config("spark.sql.catalog.h2.url", "jdbc:h2:file:" + h2.resolve("quickstart"))
            .config("spark.sql.catalog.files", "io.tessera.file.FileCatalog")
            .config("spark.sql.catalog.files.warehouse", files.toString())
            .config("spark.sql.catalog.kafka", "io.tessera.kafka.KafkaCatalog")
            .config("spark.sql.catalog.kafka.bootstrap.servers", broker.bootstrapServers())
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      System.out.println("Spark " + spark.version() + " with Tessera's JDBC catalog 'h2'.");
      spark.sql("CREATE NAMESPACE h2.shop");
      spark.sql(
          "CREATE TABLE h2.shop.orders (id BIGINT NOT NULL, day STRING, amount DOUBLE)"
              + " PARTITIONED BY (day)");

      Dataset<Row> orders =
          spark
              .range(1, 10)
              .selectExpr(
                  "id",
                  "concat('2026-11-0', cast(id % 3 + 1 as string)) as day",
                  "id * 10.0 as amount");
      orders.writeTo("h2.shop.orders").append();
      show(spark, "after append (9 orders over 3 days)");

      spark
          .sql("SELECT 100L as id, '2026-11-01' as day, 1000.0 as amount")
          .writeTo("h2.shop.orders")
          .overwrite(col("day").equalTo("2026-11-01"));
      show(spark, "after overwrite(day = '2026-11-01')");

      spark
          .sql("SELECT 200L as id, '2026-11-02' as day, 2000.0 as amount")
          .writeTo("h2.shop.orders")
          .overwritePartitions();
      show(spark, "after overwritePartitions() with rows for 2026-11-02 only");

      System.out.println(
          "Tessera's file catalog 'files': the same table as Parquet files + a commit log.");
      spark.sql("CREATE NAMESPACE files.shop");
      spark.sql(
          "CREATE TABLE files.shop.orders (id BIGINT, day STRING, amount DOUBLE) USING parquet"
              + " PARTITIONED BY (day)");
      spark.table("h2.shop.orders").writeTo("files.shop.orders").append();
      spark
          .sql("SELECT 300L as id, '2026-11-03' as day, 3000.0 as amount")
          .writeTo("files.shop.orders")
          .overwritePartitions();
      System.out.println("== files.shop.orders after overwritePartitions() for 2026-11-03");
      spark.table("files.shop.orders").orderBy("day", "id").show(false);

      // Atomic CREATE OR REPLACE TABLE ... AS SELECT: readers see the old table or the new one.
      String daily =
          "CREATE OR REPLACE TABLE h2.shop.daily AS"
              + " SELECT day, COUNT(*) AS orders, SUM(amount) AS total FROM h2.shop.orders"
              + " GROUP BY day";
      spark.sql(daily);
      spark
          .sql("SELECT 301L as id, '2026-11-03' as day, 5.0 as amount")
          .writeTo("h2.shop.orders")
          .append();
      spark.sql(daily);
      System.out.println("== h2.shop.daily after a second CREATE OR REPLACE TABLE ... AS SELECT");
      spark.table("h2.shop.daily").orderBy("day").show(false);

      System.out.println("Tessera's Kafka catalog 'kafka': a topic per table.");
      spark.sql(
          "CREATE TABLE kafka.order_events (key STRING, value STRING) TBLPROPERTIES (partitions = 2)");
      spark
          .table("h2.shop.orders")
          .selectExpr("CAST(id AS STRING) AS key", "to_json(struct(*)) AS value")
          .writeTo("kafka.order_events")
          .append();
      long records = broker.readAll("order_events", "read_committed").size();

      System.out.println("A streaming query into a file table, one micro-batch a second.");
      spark.sql("CREATE TABLE files.shop.clicks (id BIGINT, at TIMESTAMP) USING parquet");
      org.apache.spark.sql.streaming.StreamingQuery clicks =
          spark
              .readStream()
              .format("rate-micro-batch")
              .option("rowsPerBatch", 5)
              .load()
              .selectExpr("value AS id", "timestamp AS at")
              .writeStream()
              .option("checkpointLocation", files.resolve("_checkpoints/clicks").toString())
              .trigger(org.apache.spark.sql.streaming.Trigger.ProcessingTime("1 second"))
              .toTable("files.shop.clicks");
      while (clicks.lastProgress() == null || clicks.lastProgress().batchId() < 2) {
        if (clicks.exception().isDefined()) {
          throw clicks.exception().get();
        }
        Thread.sleep(200);
      }
      clicks.stop();
      System.out.println("== commits of files.shop.clicks (one per micro-batch)");
      spark.sql("CALL files.system.history(table => 'shop.clicks')").show(false);

      System.out.println("== What was committed where");
      System.out.printf(
          "H2 database %s.mv.db: shop.orders %d rows, shop.daily %d rows%n",
          h2.resolve("quickstart"),
          spark.table("h2.shop.orders").count(),
          spark.table("h2.shop.daily").count());
      System.out.printf(
          "File tables under %s: shop.orders %d rows, shop.clicks %d rows%n",
          files,
          spark.table("files.shop.orders").count(),
          spark.table("files.shop.clicks").count());
      System.out.printf(
          "Kafka topic order_events on %s: %d records%n", broker.bootstrapServers(), records);
    } finally {
      spark.stop();
      broker.stop();
    }
  }

  private static void show(SparkSession spark, String title) {
    System.out.println("== " + title);
    spark.table("h2.shop.orders").orderBy("day", "id").show(false);
  }
}
