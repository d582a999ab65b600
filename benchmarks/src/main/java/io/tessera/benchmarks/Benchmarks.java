package io.tessera.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * Entry point: {@code mvn -B -ntp -Pbench -pl benchmarks -am verify -DskipTests}. Workloads are
 * chosen with {@code
 * -Dbench.workloads=jdbc,jdbcstream,upsert,jdbcmerge,mariadb,kafka,kafkaeos,files,filestream,filemerge,fileoverwrite,scaling,staging,filescale,memory}
 * (default: jdbc,mariadb,kafka,files,scaling), sizes with {@code -Dbench.jdbc.rows}, rounds with
 * {@code -Dbench.rounds} (at least 3). Results are printed and written to {@code
 * benchmarks/results/<date>.md}.
 */
public final class Benchmarks {
  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    List<String> workloads =
        Arrays.asList(
            System.getProperty("bench.workloads", "jdbc,mariadb,kafka,files,scaling").split(","));
    int rounds = Math.max(3, Integer.getInteger("bench.rounds", 3));
    SparkSession.Builder builder =
        SparkSession.builder()
            .master("local[2]")
            .appName("tessera-benchmarks")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.memory", "4g");
    if (workloads.contains("files")
        || workloads.contains("filestream")
        || workloads.contains("filemerge")
        || workloads.contains("scaling")) {
      // Delta Lake as its documentation sets it up; path tables only (its catalog's table paths
      // fail on Spark 4.2.0). Delta 4.2.0 on Spark 4.2.0 cannot read its own log checkpoints
      // (NoSuchMethodError in ParquetToSparkSchemaConverter), written every 10 commits by
      // default: the streaming run would fail after about 10 micro-batches.
      builder =
          builder
              .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
              .config(
                  "spark.sql.catalog.spark_catalog",
                  "org.apache.spark.sql.delta.catalog.DeltaCatalog")
              .config("spark.databricks.delta.properties.defaults.checkpointInterval", "1000");
    }
    SparkSession spark = builder.getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    StringBuilder report = new StringBuilder();
    report
        .append("# Tessera benchmarks, ")
        .append(LocalDate.now())
        .append("\n\nMachine: ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Java ")
        .append(System.getProperty("java.version"))
        .append(", Spark ")
        .append(spark.version())
        .append(", best of ")
        .append(rounds)
        .append(" alternating rounds.\n\n");
    List<BenchmarkRunner.Result> charted = new java.util.ArrayList<>();
    try {
      if (workloads.contains("jdbc")) {
        long rows = Long.getLong("bench.jdbc.rows", 2_000_000L);
        charted.add(JdbcBenchmark.run(spark, rows, rounds, true));
      }
      if (workloads.contains("jdbcstream")) {
        long rows = Long.getLong("bench.jdbcstream.rows", 500_000L);
        charted.add(JdbcStreamingBenchmark.run(spark, rows, rounds));
      }
      if (workloads.contains("upsert")) {
        long rows = Long.getLong("bench.upsert.rows", 1_000_000L);
        charted.add(UpsertBenchmark.run(spark, rows, rounds));
      }
      if (workloads.contains("jdbcmerge")) {
        long rows = Long.getLong("bench.jdbcmerge.rows", 2_000_000L);
        long changes = Long.getLong("bench.jdbcmerge.changes", 100_000L);
        charted.add(JdbcMergeBenchmark.run(spark, rows, changes, rounds));
      }
      if (workloads.contains("mariadb")) {
        long rows = Long.getLong("bench.mariadb.rows", 1_000_000L);
        charted.add(MariaDbBenchmark.run(spark, rows, rounds));
      }
      if (workloads.contains("kafka")) {
        long records = Long.getLong("bench.kafka.records", 1_000_000L);
        charted.add(KafkaBenchmark.run(spark, records, rounds));
      }
      if (workloads.contains("kafkaeos")) {
        long records = Long.getLong("bench.kafka.records", 1_000_000L);
        charted.add(KafkaExactlyOnceBenchmark.run(spark, records, rounds, 2));
        charted.add(KafkaExactlyOnceBenchmark.run(spark, records, rounds, 8));
      }
      if (workloads.contains("files")) {
        long rows = Long.getLong("bench.files.rows", 10_000_000L);
        charted.addAll(FileBenchmark.run(spark, rows, rounds, true));
      }
      if (workloads.contains("filestream")) {
        long rows = Long.getLong("bench.filestream.rows", 1_000_000L);
        int batches = Integer.getInteger("bench.filestream.batches", 100);
        charted.add(FileStreamBenchmark.run(spark, rows, batches, rounds));
      }
      if (workloads.contains("filemerge")) {
        long rows = Long.getLong("bench.filemerge.rows", 10_000_000L);
        charted.addAll(FileMergeBenchmark.run(spark, rows, rounds));
      }
      if (workloads.contains("fileoverwrite")) {
        report.append(FileOverwriteCommitBenchmark.run(spark, rounds)).append("\n");
      }
      if (workloads.contains("filescale")) {
        int files = Integer.getInteger("bench.filescale.files", 100_000);
        report.append(FileScaleBenchmark.run(spark, files, rounds)).append("\n");
      }
      if (workloads.contains("memory")) {
        long rows = Long.getLong("bench.memory.rows", 10_000_000L);
        report.append(MemoryBenchmark.run(rows)).append("\n");
      }
      if (workloads.contains("staging")) {
        long rows = Long.getLong("bench.staging.rows", 1_000_000L);
        for (BenchmarkRunner.Result r : StagingBenchmark.run(spark, rows, rounds)) {
          report.append(r.markdown()).append("\n");
        }
      }
      charted.forEach(r -> report.append(r.markdown()).append("\n"));
      if (workloads.contains("files")) {
        report.append(FileBenchmark.commitOfThousandFiles(spark, rounds)).append("\n");
      }
      if (workloads.contains("scaling")) {
        report.append("## Scaling\n\n");
        for (long n : new long[] {100_000L, 1_000_000L, 10_000_000L}) {
          report.append(JdbcBenchmark.run(spark, n, rounds, false).markdown()).append("\n");
          report.append(FileBenchmark.run(spark, n, rounds, false).get(0).markdown()).append("\n");
        }
      }
    } finally {
      spark.stop();
    }
    System.out.println();
    System.out.println(report);
    Path dir = Files.createDirectories(Path.of(System.getProperty("bench.results", "results")));
    // A run of chosen workloads gets its own file, so it never overwrites the day's full run.
    String suffix =
        System.getProperty("bench.workloads") == null
                || System.getProperty("bench.workloads").equals("jdbc,mariadb,kafka,files,scaling")
            ? ""
            : "-" + String.join("-", workloads);
    Path file = dir.resolve(LocalDate.now() + suffix + ".md");
    if (!charted.isEmpty()) {
      Path png = dir.resolve(LocalDate.now() + suffix + ".png");
      Charts.write(charted, png);
      report.append("![ratios](").append(png.getFileName()).append(")\n");
    }
    Files.writeString(file, report.toString());
    System.out.println("Written to " + file.toAbsolutePath());
    System.exit(0); // the in-process Kafka broker keeps non-daemon threads
  }
}
