package io.tessera.examples;

import static org.apache.spark.sql.functions.col;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The README's first command runs this: a local Spark job that registers Tessera's JDBC catalog
 * over an embedded H2 database, creates a partitioned table, and appends, overwrites by condition
 * and overwrites partitions, each as one atomic step, printing the table after each; then copies
 * the table into a Parquet table of Tessera's file catalog under target/quickstart.
 */
public final class Quickstart {
  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of("target", "quickstart").toAbsolutePath());
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tessera-quickstart")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", work.resolve("warehouse").toString())
            .config("spark.sql.catalog.h2", "io.tessera.jdbc.JdbcCatalog")
            .config("spark.sql.catalog.h2.url", "jdbc:h2:mem:quickstart;DB_CLOSE_DELAY=-1")
            .config("spark.sql.catalog.files", "io.tessera.file.FileCatalog")
            .config(
                "spark.sql.catalog.files.warehouse",
                work.resolve("files-" + System.currentTimeMillis()).toString())
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
    } finally {
      spark.stop();
    }
  }

  private static void show(SparkSession spark, String title) {
    System.out.println("== " + title);
    spark.table("h2.shop.orders").orderBy("day", "id").show(false);
  }
}
