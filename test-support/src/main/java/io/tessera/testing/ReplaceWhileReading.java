package io.tessera.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.spark.sql.SparkSession;

/**
 * Replaces a table generation by generation ({@code REPLACE TABLE t AS SELECT id, 'gen<n>' AS gen
 * FROM range(1000 + n * 100)}) while another thread keeps reading it, and checks that every read
 * saw one whole generation: the old table or the new one, never a mix, an empty or a partial one.
 * The table must start as generation 0 ({@link #createSql}). Also holds the check that every
 * replace entry point fails cleanly ({@link #assertEveryReplaceFails}).
 */
public final class ReplaceWhileReading {
  /** One read of the table: {@code [count(*), min(gen), max(gen)]}. */
  @FunctionalInterface
  public interface Read {
    Object[] read() throws Exception;
  }

  private final List<String> seen = Collections.synchronizedList(new ArrayList<>());
  private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());

  private ReplaceWhileReading() {}

  public static String createSql(String table) {
    return "CREATE TABLE " + table + " AS SELECT id, 'gen0' AS gen FROM range(1000)";
  }

  /** Replaces {@code table} {@code generations} times while {@code read} polls it. */
  public static ReplaceWhileReading run(
      SparkSession spark, String table, int generations, Read read) throws InterruptedException {
    ReplaceWhileReading r = new ReplaceWhileReading();
    AtomicBoolean stop = new AtomicBoolean();
    Thread reader =
        new Thread(
            () -> {
              while (!stop.get()) {
                try {
                  Object[] v = read.read();
                  r.seen.add(v[0] + ":" + v[1] + ":" + v[2]);
                } catch (Exception e) {
                  r.errors.add(e);
                }
              }
            });
    reader.start();
    try {
      for (int gen = 1; gen <= generations; gen++) {
        spark.sql(
            "REPLACE TABLE "
                + table
                + " AS SELECT id, 'gen"
                + gen
                + "' AS gen FROM range("
                + rows(gen)
                + ")");
      }
    } finally {
      stop.set(true);
      reader.join(60_000);
    }
    return r;
  }

  /**
   * Runs {@code failing} through every way Spark replaces a table (DataFrameWriterV2 {@code
   * replace()} and {@code createOrReplace()}, SQL {@code REPLACE TABLE ... AS SELECT}, {@code
   * saveAsTable} in overwrite mode) and asserts that each fails with {@code failure} in its trace.
   */
  public static void assertEveryReplaceFails(
      SparkSession spark, org.apache.spark.sql.Dataset<?> failing, String table, String failure) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.writeTo(table).replace())
        .hasStackTraceContaining(failure);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> failing.writeTo(table).createOrReplace())
        .hasStackTraceContaining(failure);
    String view = Names.unique("src");
    failing.createOrReplaceTempView(view);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> spark.sql("REPLACE TABLE " + table + " AS SELECT * FROM " + view))
        .hasStackTraceContaining(failure);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> failing.write().mode(org.apache.spark.sql.SaveMode.Overwrite).saveAsTable(table))
        .hasStackTraceContaining(failure);
  }

  private static long rows(int gen) {
    return 1000 + gen * 100L;
  }

  /**
   * Every successful read saw one whole generation, at least one read succeeded, and every failed
   * read matches {@code allowedError} (pass {@code e -> false} to allow none).
   */
  public void assertEveryReadWhole(Predicate<Throwable> allowedError) {
    assertThat(errors).allMatch(allowedError, "an allowed error");
    assertThat(seen).isNotEmpty();
    for (String s : seen) {
      String[] p = s.split(":");
      assertThat(p[1]).as("one generation per read: " + s).isEqualTo(p[2]);
      int gen = Integer.parseInt(p[1].substring(3));
      assertThat(Long.parseLong(p[0])).as("rows of gen" + gen).isEqualTo(rows(gen));
    }
  }
}
