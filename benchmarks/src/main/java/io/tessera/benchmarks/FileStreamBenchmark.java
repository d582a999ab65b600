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
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.StructType;

/**
 * A streaming append of {@code batches} micro-batches (one source file each, {@code
 * maxFilesPerTrigger=1} with {@code Trigger.AvailableNow}) into Spark's Parquet file sink,
 * Tessera's {@code tessera-file} sink and Delta Lake's sink, each followed by a full read of the
 * result (row count and a checksum of all columns, which must equal the source's). The timed run is
 * the stream plus that read: many small files cost at write time and again at read time.
 */
final class FileStreamBenchmark {
  private static final AtomicInteger RUN = new AtomicInteger();

  private FileStreamBenchmark() {}

  interface Sink {
    StreamingQuery start(Dataset<Row> stream, String path, String checkpoint) throws Exception;
  }

  static BenchmarkRunner.Result run(SparkSession spark, long rows, int batches, int rounds)
      throws Exception {
    Path base = Files.createDirectories(Path.of("target", "bench-filestream").toAbsolutePath());
    Path source = base.resolve("source");
    FileBenchmark.deleteTree(source);
    spark
        .range(0, rows, 1, 2)
        .selectExpr(
            "id",
            "concat('customer-', cast(id as string)) as name",
            "rand(7) * 1000 as amount",
            "timestamp_seconds(1700000000 + id) as ts",
            "cast(id % 30 as int) as bucket")
        .repartition(batches)
        .write()
        .parquet(source.toString());
    Dataset<Row> all = spark.read().parquet(source.toString());
    String expected = FileBenchmark.checksum(all);
    StructType schema = all.schema();
    Map<String, Long> files = new LinkedHashMap<>();
    try {
      BenchmarkRunner.Result r =
          BenchmarkRunner.run(
              String.format(
                  "Streaming append, %,d rows in %d micro-batches, then a full read, local[2]",
                  rows, batches),
              rows,
              rounds,
              List.of(
                  contender(
                      "Spark writeStream.format(parquet) (file sink)",
                      spark,
                      base,
                      source,
                      schema,
                      batches,
                      FileBenchmark.Kind.SPARK,
                      expected,
                      files,
                      (s, p, cp) ->
                          s.writeStream()
                              .format("parquet")
                              .option("path", p)
                              .option("checkpointLocation", cp)
                              .trigger(Trigger.AvailableNow())
                              .start()),
                  contender(
                      "Tessera writeStream.format(tessera-file)",
                      spark,
                      base,
                      source,
                      schema,
                      batches,
                      FileBenchmark.Kind.TESSERA,
                      expected,
                      files,
                      (s, p, cp) ->
                          s.writeStream()
                              .format("tessera-file")
                              .option("path", p)
                              .option("checkpointLocation", cp)
                              .trigger(Trigger.AvailableNow())
                              .start()),
                  contender(
                      FileBenchmark.DELTA + " writeStream.format(delta)",
                      spark,
                      base,
                      source,
                      schema,
                      batches,
                      FileBenchmark.Kind.DELTA,
                      expected,
                      files,
                      (s, p, cp) ->
                          s.writeStream()
                              .format("delta")
                              .option("path", p)
                              .option("checkpointLocation", cp)
                              .trigger(Trigger.AvailableNow())
                              .start())));
      return r.withNotes(FileBenchmark.filesNote(files));
    } finally {
      FileBenchmark.deleteTree(base);
    }
  }

  private static Contender contender(
      String name,
      SparkSession spark,
      Path base,
      Path source,
      StructType schema,
      int batches,
      FileBenchmark.Kind kind,
      String expected,
      Map<String, Long> files,
      Sink sink) {
    return new Contender() {
      private Path path;
      private String result;

      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws Exception {
        if (path != null) {
          FileBenchmark.deleteTree(path);
        }
        path = base.resolve("run-" + RUN.incrementAndGet());
        result = null;
      }

      @Override
      public void run() throws Exception {
        Dataset<Row> stream =
            spark
                .readStream()
                .schema(schema)
                .option("maxFilesPerTrigger", "1")
                .parquet(source.toString());
        StreamingQuery q =
            sink.start(
                stream, path.resolve("table").toString(), path.resolve("checkpoint").toString());
        q.awaitTermination();
        if (q.lastProgress() == null || q.lastProgress().batchId() != batches - 1) {
          throw new IllegalStateException(
              name
                  + " ran "
                  + (q.lastProgress() == null ? 0 : q.lastProgress().batchId() + 1)
                  + " micro-batches, expected "
                  + batches);
        }
        result =
            FileBenchmark.checksum(
                FileBenchmark.read(spark, kind, path.resolve("table").toString()));
      }

      @Override
      public long count() throws Exception {
        if (!expected.equals(result)) {
          throw new IllegalStateException(
              name + " wrote " + result + ", but the source has " + expected);
        }
        files.put(name, FileBenchmark.dataFiles(path.resolve("table")));
        return Long.parseLong(result.substring(0, result.indexOf(' ')));
      }
    };
  }
}
