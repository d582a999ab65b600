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

  static String run(SparkSession spark, long rows, int rounds) throws Exception {
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
      String unpartitioned =
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
      String partitioned =
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
                      "Tessera tessera-file partitionBy=bucket",
                      base,
                      spark,
                      true,
                      p ->
                          df.write()
                              .format("tessera-file")
                              .option("path", p)
                              .option("partitionBy", "bucket")
                              .mode("append")
                              .save())));
      return unpartitioned + "\n" + partitioned;
    } finally {
      df.unpersist();
      deleteTree(base);
    }
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
