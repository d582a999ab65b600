package io.tessera.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * N rows x 5 columns as Parquet from {@code local[2]}: Spark's {@code df.write.parquet} against
 * Tessera's {@code tessera-file} provider and Delta Lake (path tables, {@code format("delta")}),
 * unpartitioned and partitioned by a 30-value column. Each run writes a fresh folder and is
 * verified before its time counts: the row count and a checksum of all columns read back with the
 * contender's own reader must equal the source's. The data files each contender wrote in its last
 * run are counted and printed under the table.
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
    String expected = checksum(df);
    Map<String, Long> files = new LinkedHashMap<>();
    try {
      BenchmarkRunner.Result unpartitioned =
          BenchmarkRunner.run(
              String.format("Parquet, %,d rows x 5 columns, unpartitioned, local[2]", rows),
              rows,
              rounds,
              List.of(
                  contender(
                      "Spark df.write.parquet",
                      base,
                      spark,
                      Kind.SPARK,
                      expected,
                      files,
                      p -> df.write().parquet(p)),
                  contender(
                      "Tessera tessera-file (parquet)",
                      base,
                      spark,
                      Kind.TESSERA,
                      expected,
                      files,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .mode("append")
                              .save()),
                  contender(
                      DELTA + " format(delta)",
                      base,
                      spark,
                      Kind.DELTA,
                      expected,
                      files,
                      p -> df.write().format("delta").mode("append").save(p))));
      unpartitioned = unpartitioned.withNotes(filesNote(files));
      if (!partitioned) {
        return List.of(unpartitioned);
      }
      files.clear();
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
                      Kind.SPARK,
                      expected,
                      files,
                      p -> df.write().partitionBy("bucket").parquet(p)),
                  contender(
                      "Tessera tessera-file partitionBy=bucket (default distribution=cluster)",
                      base,
                      spark,
                      Kind.TESSERA,
                      expected,
                      files,
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
                      Kind.TESSERA,
                      expected,
                      files,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .option("partitionBy", "bucket")
                              .option("distribution", "none")
                              .mode("append")
                              .save()),
                  contender(
                      DELTA + " partitionBy(bucket)",
                      base,
                      spark,
                      Kind.DELTA,
                      expected,
                      files,
                      p ->
                          df.write()
                              .format("delta")
                              .partitionBy("bucket")
                              .mode("append")
                              .save(p))));
      return List.of(unpartitioned, partitionedResult.withNotes(filesNote(files)));
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
                      Kind.SPARK,
                      checksum(df),
                      new LinkedHashMap<>(),
                      p -> df.write().option("maxRecordsPerFile", "1000").parquet(p)),
                  contender(
                      "Tessera tessera-file",
                      base,
                      spark,
                      Kind.TESSERA,
                      checksum(df),
                      new LinkedHashMap<>(),
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

  static final String DELTA = "Delta Lake 4.2.0";

  /** Whose writer (and so whose reader) a contender uses. */
  enum Kind {
    SPARK,
    TESSERA,
    DELTA
  }

  /** A table's data as its own reader returns it. */
  static Dataset<Row> read(SparkSession spark, Kind kind, String path) {
    return switch (kind) {
      case SPARK -> spark.read().parquet(path);
      case TESSERA -> spark.read().format("tessera-file").load(path);
      case DELTA -> spark.read().format("delta").load(path);
    };
  }

  /**
   * Row count and a checksum of every column ({@code sum} of a 64-bit hash of each whole row), as
   * text: equal for the source and a faithful copy, whatever the row order.
   */
  static String checksum(Dataset<Row> data) {
    String[] columns = data.columns();
    java.util.Arrays.sort(columns);
    Row r =
        data.selectExpr(
                "count(*)",
                "sum(xxhash64(" + String.join(", ", columns) + ") % 1000000007)",
                "sum(hash(" + String.join(", ", columns) + "))")
            .first();
    return r.get(0) + " rows, checksums " + r.get(1) + "/" + r.get(2);
  }

  /** The data files under {@code table} (outside hidden {@code _}/{@code .} folders and files). */
  static long dataFiles(Path table) throws IOException {
    if (!Files.exists(table)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(table)) {
      return s.filter(Files::isRegularFile)
          .filter(
              f -> {
                for (Path part : table.relativize(f)) {
                  String n = part.toString();
                  if (n.startsWith("_") || n.startsWith(".")) {
                    return false;
                  }
                }
                return true;
              })
          .count();
    }
  }

  /** "Data files written (last run): name n, ..." for the contenders in {@code files}. */
  static String filesNote(Map<String, Long> files) {
    return filesNote("Data files each contender wrote in its last run: ", files);
  }

  /** {@code lead} and "name value" for each contender in {@code files}. */
  static String filesNote(String lead, Map<String, ?> files) {
    StringBuilder b = new StringBuilder(lead);
    int k = 0;
    for (Map.Entry<String, ?> e : files.entrySet()) {
      b.append(k++ == 0 ? "" : "; ").append(e.getKey()).append(": ").append(e.getValue());
    }
    return b.append(".").toString();
  }

  private static Contender contender(
      String name,
      Path base,
      SparkSession spark,
      Kind kind,
      String expected,
      Map<String, Long> files,
      Body body) {
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
      public long count() throws IOException {
        String actual = checksum(read(spark, kind, path.toString()));
        if (!actual.equals(expected)) {
          throw new IllegalStateException(
              name + " wrote " + actual + ", but the source has " + expected);
        }
        files.put(name, dataFiles(path));
        return Long.parseLong(actual.substring(0, actual.indexOf(' ')));
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
