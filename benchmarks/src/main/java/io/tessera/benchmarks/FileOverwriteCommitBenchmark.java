package io.tessera.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The driver commit of an overwrite that replaces 1,000 files in 100 partitions: a table of 100,000
 * rows written as 10 tasks x 100 partitions ({@code distribution=none}), then overwritten whole by
 * the same rows. The commit time is Tessera's {@code tesseraCommitDurationMs} metric (the log entry
 * plus the file moves), one fresh table per round.
 */
final class FileOverwriteCommitBenchmark {
  private FileOverwriteCommitBenchmark() {}

  static String run(SparkSession spark, int rounds) throws Exception {
    Path base = Files.createDirectories(Path.of("target", "bench-overwrite").toAbsolutePath());
    Dataset<Row> df =
        spark
            .range(0, 100_000, 1, 10)
            .selectExpr("id", "id * 2 as v", "cast(id % 100 as int) as p");
    List<Double> commits = new ArrayList<>();
    List<Long> visibleFiles = new ArrayList<>();
    try {
      for (int round = 0; round < rounds; round++) {
        String path = base.resolve("run-" + round).toString();
        df.write()
            .format("tessera-file")
            .option("path", path)
            .option("partitionBy", "p")
            .option("distribution", "none")
            .mode("append")
            .save();
        Thread.sleep(1000); // the append's metrics event arrives before the overwrite is timed
        commits.addAll(
            FileBenchmark.commitTimes(
                spark,
                1,
                () ->
                    df.write()
                        .format("tessera-file")
                        .option("path", path)
                        .option("partitionBy", "p")
                        .option("distribution", "none")
                        .mode("overwrite")
                        .save()));
        long rows = spark.read().format("tessera-file").load(path).count();
        long visible = FileBenchmark.dataFiles(Path.of(path));
        if (rows != 100_000) {
          throw new IllegalStateException("the overwrite left " + rows + " rows");
        }
        visibleFiles.add(visible);
        System.out.printf("  round %d  overwrite commit %8.0f ms%n", round + 1, commits.get(round));
      }
    } finally {
      FileBenchmark.deleteTree(base);
    }
    List<Double> sorted = new ArrayList<>(commits);
    sorted.sort(null);
    return String.format(
        "### Driver commit of an overwrite replacing 1,000 files in 100 partitions%n%n"
            + "tesseraCommitDurationMs over %d rounds: min %.0f ms, median %.0f ms, max %.0f ms;"
            + " data files a plain reader lists in the table folder after each overwrite: %s"
            + " (the table has 1,000).%n",
        sorted.size(),
        sorted.get(0),
        sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1),
        visibleFiles);
  }
}
