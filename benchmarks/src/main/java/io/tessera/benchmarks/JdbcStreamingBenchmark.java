package io.tessera.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

/**
 * A streaming query into PostgreSQL at 10,000 rows per micro-batch (Parquet files of 10,000 rows,
 * one per trigger), until all files are written: Spark's usual workaround ({@code foreachBatch} +
 * {@code df.write.jdbc}, at-least-once) against Tessera's exactly-once {@code writeStream}. Each
 * run starts from an empty table and a new checkpoint and is verified by count.
 */
final class JdbcStreamingBenchmark {
  private JdbcStreamingBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long rows, int rounds) throws Exception {
    String url = env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String user = env("TESSERA_POSTGRESQL_USER", "root");
    String password = env("TESSERA_POSTGRESQL_PASSWORD", "");
    String schema = "tessera_bench_stream";
    JdbcBenchmark.exec(
        url,
        user,
        password,
        "DROP SCHEMA IF EXISTS " + schema + " CASCADE",
        "CREATE SCHEMA " + schema);
    String columns =
        "(id BIGINT, name TEXT, amount DOUBLE PRECISION, ts TIMESTAMPTZ, flag BOOLEAN)";
    for (String t : List.of("spark_default", "spark_tuned", "tessera")) {
      JdbcBenchmark.exec(url, user, password, "CREATE TABLE " + schema + "." + t + " " + columns);
    }
    spark.conf().set("spark.sql.catalog.benchs", "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog.benchs.url", url);
    spark.conf().set("spark.sql.catalog.benchs.user", user);
    spark.conf().set("spark.sql.catalog.benchs.password", password);

    Path input = Files.createTempDirectory("tessera-bench-stream-in");
    int files = (int) Math.max(1, rows / 10_000);
    JdbcBenchmark.customerRows(spark, rows)
        .repartition(files)
        .write()
        .mode(SaveMode.Overwrite)
        .parquet(input.toString());
    StructTypeHolder holder = new StructTypeHolder(spark.read().parquet(input.toString()).schema());

    Properties plain = new Properties();
    plain.setProperty("user", user);
    plain.setProperty("password", password);
    Properties tuned = new Properties();
    tuned.putAll(plain);
    tuned.setProperty("reWriteBatchedInserts", "true");
    tuned.setProperty("batchsize", "10000");

    List<Contender> contenders =
        List.of(
            foreachBatch(
                "Spark foreachBatch + df.write.jdbc (default; at-least-once)",
                spark,
                input,
                holder,
                url,
                user,
                password,
                schema + ".spark_default",
                plain),
            foreachBatch(
                "Spark foreachBatch + df.write.jdbc (reWriteBatchedInserts; at-least-once)",
                spark,
                input,
                holder,
                url,
                user,
                password,
                schema + ".spark_tuned",
                tuned),
            JdbcBenchmark.contender(
                "Tessera writeStream.toTable (exactly-once)",
                url,
                user,
                password,
                schema + ".tessera",
                () ->
                    runQuery(
                        spark,
                        input,
                        holder,
                        (source, ckpt) ->
                            source
                                .writeStream()
                                .option("checkpointLocation", ckpt)
                                .trigger(Trigger.ProcessingTime("100 milliseconds"))
                                .toTable("benchs." + schema + ".tessera"))));
    try {
      return BenchmarkRunner.run(
          String.format(
              "PostgreSQL streaming, %,d rows in micro-batches of 10,000 (ProcessingTime 100 ms)",
              rows),
          rows,
          rounds,
          contenders);
    } finally {
      JdbcBenchmark.exec(url, user, password, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /** Spark's usual workaround: each micro-batch written with {@code df.write.jdbc}. */
  private static Contender foreachBatch(
      String name,
      SparkSession spark,
      Path input,
      StructTypeHolder holder,
      String url,
      String user,
      String password,
      String table,
      Properties props) {
    return JdbcBenchmark.contender(
        name,
        url,
        user,
        password,
        table,
        () ->
            runQuery(
                spark,
                input,
                holder,
                (source, ckpt) ->
                    source
                        .writeStream()
                        .foreachBatch(
                            (VoidFunction2<Dataset<Row>, Long>)
                                (batch, id) ->
                                    batch.write().mode(SaveMode.Append).jdbc(url, table, props))
                        .option("checkpointLocation", ckpt)
                        .trigger(Trigger.ProcessingTime("100 milliseconds"))
                        .start()));
  }

  record StructTypeHolder(org.apache.spark.sql.types.StructType schema) {}

  interface Start {
    StreamingQuery start(Dataset<Row> source, String checkpoint) throws Exception;
  }

  private static void runQuery(SparkSession spark, Path input, StructTypeHolder holder, Start start)
      throws Exception {
    Path checkpoint = Files.createTempDirectory("tessera-bench-stream-ckpt");
    Dataset<Row> source =
        spark
            .readStream()
            .schema(holder.schema())
            .option("maxFilesPerTrigger", "1")
            .parquet(input.toString());
    StreamingQuery q = start.start(source, checkpoint.toString());
    try {
      q.processAllAvailable();
    } finally {
      q.stop();
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
