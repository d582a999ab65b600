package io.tessera.benchmarks;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.TableLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Planning and commit cost of a large tessera-file table: a table of {@code files} data files (100
 * partitions; the files are hard links of one small Parquet file, registered in one log entry, so
 * building it takes seconds), then (a) planning a query of one partition, and of the whole table,
 * up to the point where Spark knows its input partitions (no task runs), and (b) the driver commit
 * of an append of 1,000 more files (the {@code tesseraCommitDurationMs} metric).
 */
final class FileScaleBenchmark {
  private FileScaleBenchmark() {}

  static String run(SparkSession spark, int files, int rounds) throws Exception {
    Path base = Files.createDirectories(Path.of("target", "bench-filescale").toAbsolutePath());
    FileBenchmark.deleteTree(base);
    Path table = base.resolve("t");
    // Version 0 and 1: the table and one real data file in partition p=0.
    spark
        .range(0, 100, 1, 1)
        .selectExpr("id", "0 as p")
        .write()
        .format("tessera-file")
        .option("path", table.toString())
        .option("partitionBy", "p")
        .mode("append")
        .save();
    TableLog log =
        new TableLog(
            new org.apache.hadoop.fs.Path(table.toString()), spark.sessionState().newHadoopConf());
    AddFile seed = log.snapshot().files().iterator().next();
    Path seedFile = table.resolve(seed.path());
    long build = System.nanoTime();
    List<AddFile> add = new ArrayList<>(files);
    Path source = seedFile;
    for (int i = 0; i < files; i++) {
      int p = 1 + i % 100;
      Path dir = table.resolve("p=" + p);
      if (i < 100) {
        Files.createDirectories(dir);
      }
      String name = String.format("part-%05d-%032x-t0-000.snappy.parquet", i, (long) i);
      if (i % 50_000 == 0) { // a file system allows about 65,000 links per file
        source = base.resolve("seed-" + i + ".parquet");
        Files.copy(seedFile, source);
      }
      Files.createLink(dir.resolve(name), source);
      add.add(new AddFile("p=" + p + "/" + name, Map.of("p", String.valueOf(p)), seed.size(), 100));
    }
    long version = log.snapshot().version() + 1;
    LogEntry entry =
        new LogEntry(version, System.currentTimeMillis(), "append", null, add, List.of(), null);
    if (!log.commit(entry, log.snapshot().apply(entry), 1)) {
      throw new IllegalStateException("could not register the files");
    }
    double buildS = (System.nanoTime() - build) / 1e9;

    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "### tessera-file at scale: %,d files in 100 partitions, local[2]%n%n"
                + "Built in %.1f s (hard links + one log entry with a checkpoint).%n%n"
                + "| step | min | median | max |%n|---|---:|---:|---:|%n",
            files + 1, buildS));
    out.append(
        row(
            "load the latest snapshot from the log (one checkpoint)",
            time(rounds, () -> log.snapshot())));
    out.append(
        row(
            "plan a query of one partition (1,000 files)",
            time(rounds, () -> plan(spark, table, "p = 7"))));
    out.append(
        row("plan a query of the whole table", time(rounds, () -> plan(spark, table, "true"))));
    out.append(
        row(
            "driver commit of an append of 1,000 files",
            FileBenchmark.commitTimes(
                spark,
                rounds,
                () ->
                    spark
                        .range(0, 1_000_000, 1, 2)
                        .selectExpr("id", "7 as p")
                        .write()
                        .format("tessera-file")
                        .option("path", table.toString())
                        .option("maxRecordsPerFile", "1000")
                        .mode("append")
                        .save())));
    FileBenchmark.deleteTree(base);
    return out.toString();
  }

  interface Step {
    void run() throws Exception;
  }

  private static List<Double> time(int rounds, Step step) throws Exception {
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      step.run();
      ms.add((System.nanoTime() - t0) / 1e6);
    }
    return ms;
  }

  private static String row(String name, List<Double> ms) {
    List<Double> s = new ArrayList<>(ms);
    s.sort(null);
    return String.format(
        "| %s | %.0f ms | %.0f ms | %.0f ms |%n",
        name, s.get(0), s.get(s.size() / 2), s.get(s.size() - 1));
  }

  /** Plans a filtered read down to its input partitions (the file listing), running no task. */
  private static void plan(SparkSession spark, Path table, String filter) {
    Dataset<Row> df =
        spark.read().format("tessera-file").load(table.toString()).where(filter).select("id");
    int partitions = df.queryExecution().executedPlan().execute().getNumPartitions();
    if (partitions < 1) {
      throw new IllegalStateException("no input partitions");
    }
  }
}
