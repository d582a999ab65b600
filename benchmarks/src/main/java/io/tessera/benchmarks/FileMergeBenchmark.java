package io.tessera.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Row-level changes to a table of N rows in 100 day partitions: a MERGE of 100,000 changed rows
 * (50,000 updates of existing rows and 50,000 new rows, all in the 5 newest days: 5% of the
 * partitions) and a DELETE of one day. Against rewriting the whole table with Spark's Parquet
 * writer (what a plain Parquet table needs), Tessera's copy-on-write statements and Delta Lake's.
 * Each table is written before the timed statement (not timed); each result is verified by row
 * count and a checksum of all columns read back with the contender's own reader, and the data files
 * each contender rewrote are counted.
 */
final class FileMergeBenchmark {
  private static final AtomicInteger RUN = new AtomicInteger();
  private static final String CATALOG = "bench_files";
  private static final String UNCLUSTERED = "bench_files_none";

  private FileMergeBenchmark() {}

  interface Statement {
    void run(String table) throws Exception;
  }

  static List<BenchmarkRunner.Result> run(SparkSession spark, long rows, int rounds)
      throws Exception {
    Path base = Files.createDirectories(Path.of("target", "bench-merge").toAbsolutePath());
    FileBenchmark.deleteTree(base);
    Files.createDirectories(base.resolve("b"));
    spark.conf().set("spark.sql.catalog." + CATALOG, "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog." + CATALOG + ".warehouse", base.toString());
    // The same tables, written without clustering rows by partition first.
    spark.conf().set("spark.sql.catalog." + UNCLUSTERED, "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog." + UNCLUSTERED + ".warehouse", base.toString());
    spark.conf().set("spark.sql.catalog." + UNCLUSTERED + ".distribution", "none");
    Dataset<Row> table =
        spark
            .range(0, rows, 1, 2)
            .selectExpr(
                "id",
                "concat('customer-', cast(id as string)) as name",
                "rand(7) * 1000 as amount",
                "cast(id % 100 as int) as day")
            .cache();
    table.count();
    // 10,000 existing rows of each of the days 95-99 change, and as many new rows arrive there.
    Dataset<Row> changes =
        spark
            .range(0, 50_000, 1, 2)
            .selectExpr(
                "(id div 5) * 100 + 95 + id % 5 as id",
                "'changed' as name", "-1.0d as amount", "cast(95 + id % 5 as int) as day")
            .union(
                spark
                    .range(rows, rows + 50_000, 1, 2)
                    .selectExpr(
                        "id", "'new' as name", "0.0d as amount", "cast(95 + id % 5 as int) as day"))
            .cache();
    changes.count();
    changes.createOrReplaceTempView("bench_changes");
    Dataset<Row> merged =
        table
            .join(changes, table.col("id").equalTo(changes.col("id")), "left_anti")
            .unionByName(changes);
    String mergedSum = FileBenchmark.checksum(merged);
    Dataset<Row> deleted = table.where("day <> 42");
    String deletedSum = FileBenchmark.checksum(deleted);
    String mergeSql =
        " t USING bench_changes s ON t.id = s.id"
            + " WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *";
    try {
      Map<String, String> files = new LinkedHashMap<>();
      BenchmarkRunner.Result merge =
          BenchmarkRunner.run(
              String.format(
                  "MERGE of 100,000 changed rows (50,000 updates, 50,000 inserts, 5 of 100"
                      + " partitions) into %,d rows, local[2]",
                  rows),
              rows + 50_000,
              rounds,
              List.of(
                  contender(
                      "Spark: the whole table rewritten (join, df.write.partitionBy(day).parquet)",
                      spark,
                      base,
                      FileBenchmark.Kind.SPARK,
                      table,
                      mergedSum,
                      files,
                      p -> {
                        Dataset<Row> old = spark.read().parquet(p);
                        old.join(changes, old.col("id").equalTo(changes.col("id")), "left_anti")
                            .unionByName(changes)
                            .write()
                            .partitionBy("day")
                            .parquet(p + "-new");
                      }),
                  contender(
                      "Tessera MERGE INTO (copy-on-write)",
                      spark,
                      base,
                      FileBenchmark.Kind.TESSERA,
                      table,
                      mergedSum,
                      files,
                      t -> spark.sql("MERGE INTO " + t + mergeSql)),
                  contender(
                      "Tessera MERGE INTO, distribution=none (no shuffle by partition first)",
                      spark,
                      base,
                      FileBenchmark.Kind.TESSERA,
                      table,
                      mergedSum,
                      files,
                      t ->
                          spark.sql(
                              "MERGE INTO "
                                  + t.replace(CATALOG + ".", UNCLUSTERED + ".")
                                  + mergeSql)),
                  contender(
                      FileBenchmark.DELTA + " MERGE INTO",
                      spark,
                      base,
                      FileBenchmark.Kind.DELTA,
                      table,
                      mergedSum,
                      files,
                      p -> spark.sql("MERGE INTO delta.`" + p + "`" + mergeSql))));
      merge = merge.withNotes(rewrittenNote(files));
      files.clear();
      BenchmarkRunner.Result delete =
          BenchmarkRunner.run(
              String.format(
                  "DELETE of one day (1 of 100 partitions) from %,d rows, local[2]", rows),
              rows - rows / 100,
              rounds,
              List.of(
                  contender(
                      "Spark: the whole table rewritten (filter, df.write.partitionBy(day).parquet)",
                      spark,
                      base,
                      FileBenchmark.Kind.SPARK,
                      table,
                      deletedSum,
                      files,
                      p ->
                          spark
                              .read()
                              .parquet(p)
                              .where("day <> 42")
                              .write()
                              .partitionBy("day")
                              .parquet(p + "-new")),
                  contender(
                      "Tessera DELETE FROM ... WHERE day = 42",
                      spark,
                      base,
                      FileBenchmark.Kind.TESSERA,
                      table,
                      deletedSum,
                      files,
                      t -> spark.sql("DELETE FROM " + t + " WHERE day = 42")),
                  contender(
                      FileBenchmark.DELTA + " DELETE",
                      spark,
                      base,
                      FileBenchmark.Kind.DELTA,
                      table,
                      deletedSum,
                      files,
                      p -> spark.sql("DELETE FROM delta.`" + p + "` WHERE day = 42"))));
      return List.of(merge, delete.withNotes(rewrittenNote(files)));
    } finally {
      table.unpersist();
      changes.unpersist();
      FileBenchmark.deleteTree(base);
    }
  }

  private static String rewrittenNote(Map<String, String> files) {
    return FileBenchmark.filesNote("Data files written by the statement (last run): ", files);
  }

  /**
   * Writes {@code table} fresh (not timed), runs {@code statement} on it (timed: for Spark it
   * writes the whole new table beside the old one), then checks the result's checksum.
   */
  private static Contender contender(
      String name,
      SparkSession spark,
      Path base,
      FileBenchmark.Kind kind,
      Dataset<Row> table,
      String expected,
      Map<String, String> files,
      Statement statement) {
    return new Contender() {
      private String id;
      private long filesBefore;

      private Path path() {
        return base.resolve("b").resolve(id);
      }

      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws Exception {
        if (id != null) {
          if (kind == FileBenchmark.Kind.TESSERA) {
            spark.sql("DROP TABLE IF EXISTS " + CATALOG + ".b." + id);
          }
          FileBenchmark.deleteTree(path());
          FileBenchmark.deleteTree(Path.of(path() + "-new"));
        }
        id = "t" + RUN.incrementAndGet();
        String p = path().toString();
        switch (kind) {
          case SPARK -> table.write().partitionBy("day").parquet(p);
          case TESSERA -> {
            spark.sql(
                "CREATE TABLE "
                    + CATALOG
                    + ".b."
                    + id
                    + " (id BIGINT, name STRING, amount DOUBLE, day INT) USING parquet"
                    + " PARTITIONED BY (day)");
            table.writeTo(CATALOG + ".b." + id).append();
          }
          case DELTA -> table.write().format("delta").partitionBy("day").save(p);
        }
        filesBefore = FileBenchmark.dataFiles(path());
      }

      @Override
      public void run() throws Exception {
        statement.run(
            kind == FileBenchmark.Kind.TESSERA ? CATALOG + ".b." + id : path().toString());
      }

      @Override
      public long count() throws Exception {
        Path result = kind == FileBenchmark.Kind.SPARK ? Path.of(path() + "-new") : path();
        String actual = FileBenchmark.checksum(FileBenchmark.read(spark, kind, result.toString()));
        if (!actual.equals(expected)) {
          throw new IllegalStateException(
              name + " left " + actual + ", but the expected result has " + expected);
        }
        files.put(name, newFiles(kind, result) + " (the table had " + filesBefore + ")");
        return Long.parseLong(actual.substring(0, actual.indexOf(' ')));
      }

      /** Data files the statement wrote: all for Spark, the ones added since the reset else. */
      private long newFiles(FileBenchmark.Kind kind, Path result) throws Exception {
        return switch (kind) {
          case SPARK -> FileBenchmark.dataFiles(result);
          // Delta keeps the files it removed in place until VACUUM.
          case DELTA -> FileBenchmark.dataFiles(result) - filesBefore;
          // The newest history row is the statement's commit.
          case TESSERA ->
              spark
                  .sql("CALL " + CATALOG + ".system.history(table => 'b." + id + "')")
                  .first()
                  .<Long>getAs("files_added");
        };
      }
    };
  }
}
