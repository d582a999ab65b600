package io.tessera.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * N rows x 5 columns as Parquet from {@code local[2]}: Spark's {@code df.write.parquet} against
 * Tessera's {@code tessera-file} provider, unpartitioned and partitioned by a 30-value column. Each
 * run writes a fresh folder and is verified by reading the row count back.
 */
final class FileBenchmark {
  private static final AtomicInteger RUN = new AtomicInteger();

  private FileBenchmark() {}

  static List<BenchmarkRunner.Result> run(
      SparkSession spark, long rows, int rounds, boolean partitioned) throws Exception {
    Path base = Files.createDirectories(Path.of("target", "bench-files").toAbsolutePath());
    Dataset<Row> df =
        spark
            .range(0, rows, 1, 2)
            .selectExpr(
                "id",
                "concat('customer-', cast(id as string)) as name",
                "rand(7) * 1000 as amount",
                "timestamp_seconds(1700000000 + id) as ts",
                "cast(id % 30 as int) as bucket")
            .cache();
    df.count();
    try {
      BenchmarkRunner.Result unpartitioned =
          BenchmarkRunner.run(
              String.format("Parquet, %,d rows x 5 columns, unpartitioned, local[2]", rows),
              rows,
              rounds,
              List.of(
                  contender(
                      "Spark df.write.parquet", base, spark, false, p -> df.write().parquet(p)),
                  contender(
                      "Tessera tessera-file (parquet)",
                      base,
                      spark,
                      true,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .mode("append")
                              .save())));
      if (!partitioned) {
        return List.of(unpartitioned);
      }
      BenchmarkRunner.Result partitionedResult =
          BenchmarkRunner.run(
              String.format(
                  "Parquet, %,d rows x 5 columns, partitioned by a 30-value column, local[2]",
                  rows),
              rows,
              rounds,
              List.of(
                  contender(
                      "Spark df.write.partitionBy(bucket).parquet",
                      base,
                      spark,
                      false,
                      p -> df.write().partitionBy("bucket").parquet(p)),
                  contender(
                      "Tessera tessera-file partitionBy=bucket (default distribution=cluster)",
                      base,
                      spark,
                      true,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .option("partitionBy", "bucket")
                              .mode("append")
                              .save()),
                  contender(
                      "Tessera tessera-file partitionBy=bucket distribution=none",
                      base,
                      spark,
                      true,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .option("partitionBy", "bucket")
                              .option("distribution", "none")
                              .mode("append")
                              .save())));
      return List.of(unpartitioned, partitionedResult);
    } finally {
      df.unpersist();
      deleteTree(base);
    }
  }

  /**
   * The cost of the driver-side commit itself: 1,000,000 rows written as 1,000 files
   * (maxRecordsPerFile=1000). Total times for both writers, plus Tessera's commit time (move 1,000
   * files + one log entry) read from its {@code tesseraCommitDurationMs} SQL metric.
   */
  static String commitOfThousandFiles(SparkSession spark, int rounds) throws Exception {
    long rows = 1_000_000;
    Path base = Files.createDirectories(Path.of("target", "bench-files-1000").toAbsolutePath());
    Dataset<Row> df = spark.range(0, rows, 1, 2).selectExpr("id", "id * 2 as v").cache();
    df.count();
    List<Long> commitMs = new java.util.concurrent.CopyOnWriteArrayList<>();
    org.apache.spark.sql.util.QueryExecutionListener listener = commitListener(commitMs);
    spark.listenerManager().register(listener);
    try {
      BenchmarkRunner.Result r =
          BenchmarkRunner.run(
              "Parquet, 1,000,000 rows as 1,000 files (maxRecordsPerFile=1000), local[2]",
              rows,
              rounds,
              List.of(
                  contender(
                      "Spark df.write.parquet",
                      base,
                      spark,
                      false,
                      p -> df.write().option("maxRecordsPerFile", "1000").parquet(p)),
                  contender(
                      "Tessera tessera-file",
                      base,
                      spark,
                      true,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .option("maxRecordsPerFile", "1000")
                              .mode("append")
                              .save())));
      Thread.sleep(1000); // listener events are asynchronous
      List<Long> sorted = new java.util.ArrayList<>(commitMs);
      sorted.sort(null);
      return r.markdown()
          + String.format(
              "%nTessera's driver commit of the 1,000 files (move + one log entry), from its"
                  + " tesseraCommitDurationMs metric: min %d ms, median %d ms, max %d ms over %d"
                  + " runs.%n",
              sorted.get(0),
              sorted.get(sorted.size() / 2),
              sorted.get(sorted.size() - 1),
              sorted.size());
    } finally {
      spark.listenerManager().unregister(listener);
      df.unpersist();
      deleteTree(base);
    }
  }

  /** Collects every tesseraCommitDurationMs of successful queries into {@code commitMs}. */
  static org.apache.spark.sql.util.QueryExecutionListener commitListener(List<Long> commitMs) {
    return new org.apache.spark.sql.util.QueryExecutionListener() {
      @Override
      public void onSuccess(String f, org.apache.spark.sql.execution.QueryExecution qe, long d) {
        collect(qe.executedPlan());
      }

      private void collect(org.apache.spark.sql.execution.SparkPlan plan) {
        scala.jdk.javaapi.CollectionConverters.asJava(plan.metrics())
            .forEach(
                (k, v) -> {
                  if (k.equals("tesseraCommitDurationMs")) {
                    commitMs.add(v.value());
                  }
                });
        scala.jdk.javaapi.CollectionConverters.asJava(plan.children()).forEach(this::collect);
      }

      @Override
      public void onFailure(
          String f, org.apache.spark.sql.execution.QueryExecution qe, Exception e) {}
    };
  }

  interface Write {
    void run() throws Exception;
  }

  /** The tesseraCommitDurationMs of {@code rounds} runs of {@code write}, in ms. */
  static List<Double> commitTimes(SparkSession spark, int rounds, Write write) throws Exception {
    List<Long> commitMs = new java.util.concurrent.CopyOnWriteArrayList<>();
    org.apache.spark.sql.util.QueryExecutionListener listener = commitListener(commitMs);
    spark.listenerManager().register(listener);
    try {
      for (int i = 0; i < rounds; i++) {
        write.run();
      }
      Thread.sleep(1000); // listener events are asynchronous
    } finally {
      spark.listenerManager().unregister(listener);
    }
    return commitMs.stream().map(Long::doubleValue).toList();
  }

  interface Body {
    void write(String path) throws Exception;
  }

  private static Contender contender(
      String name, Path base, SparkSession spark, boolean tessera, Body body) {
    return new Contender() {
      private Path path;

      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws IOException {
        if (path != null) {
          deleteTree(path);
        }
        path = base.resolve("run-" + RUN.incrementAndGet());
      }

      @Override
      public void run() throws Exception {
        body.write(path.toString());
      }

      @Override
      public long count() {
        return tessera
            ? spark.read().format("tessera-file").load(path.toString()).count()
            : spark.read().parquet(path.toString()).count();
      }
    };
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
