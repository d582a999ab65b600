package io.tessera.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Upserts N rows into an N-row PostgreSQL table whose primary key holds half of the new keys: a
 * hand-written path (COPY from two threads into an UNLOGGED staging table, then one {@code INSERT
 * ... SELECT ... ON CONFLICT DO UPDATE}) against Tessera's {@code writeMode=upsert}. Before each
 * run the table is reloaded with ids 0..N-1 (not timed); after it, it must hold 1.5 N rows.
 */
final class UpsertBenchmark {
  private UpsertBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long rows, int rounds) throws Exception {
    String url = env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String user = env("TESSERA_POSTGRESQL_USER", "root");
    String password = env("TESSERA_POSTGRESQL_PASSWORD", "");
    String schema = "tessera_bench_upsert";
    prepareTables(spark, url, user, password, schema, "benchu");
    // ids N/2 .. 3N/2: half of them are in the table already.
    Dataset<Row> df =
        JdbcBenchmark.customerRows(spark, rows + rows / 2)
            .where("id >= " + rows / 2)
            .repartition(2)
            .cache();
    df.count();
    long expected = rows + rows / 2;
    try {
      return BenchmarkRunner.run(
          String.format(
              "PostgreSQL upsert, %,d rows into %,d (half new keys), local[2]", rows, rows),
          expected,
          rounds,
          List.of(
              contender(
                  "Hand-written: COPY (2 threads) into staging + INSERT ... ON CONFLICT DO UPDATE",
                  url,
                  user,
                  password,
                  schema + ".hand",
                  rows,
                  () -> {
                    JdbcBenchmark.exec(
                        url, user, password, "TRUNCATE TABLE " + schema + ".hand_staging");
                    copyRange2(url, user, password, schema + ".hand_staging", rows / 2, expected);
                    JdbcBenchmark.exec(
                        url,
                        user,
                        password,
                        "INSERT INTO "
                            + schema
                            + ".hand SELECT * FROM "
                            + schema
                            + ".hand_staging ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                            + " amount = EXCLUDED.amount, ts = EXCLUDED.ts, flag ="
                            + " EXCLUDED.flag");
                  }),
              contender(
                  "Tessera writeMode=upsert (COPY + staging, one publish transaction)",
                  url,
                  user,
                  password,
                  schema + ".tessera",
                  rows,
                  () ->
                      df.writeTo("benchu." + schema + ".tessera")
                          .option("writeMode", "upsert")
                          .append())));
    } finally {
      df.unpersist();
      JdbcBenchmark.exec(url, user, password, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /**
   * A fresh schema with the tables "hand" and "tessera" (customer rows with a primary key) and the
   * unlogged "hand_staging", and the Tessera catalog {@code catalog} on the database.
   */
  static void prepareTables(
      SparkSession spark, String url, String user, String password, String schema, String catalog)
      throws Exception {
    JdbcBenchmark.exec(
        url,
        user,
        password,
        "DROP SCHEMA IF EXISTS " + schema + " CASCADE",
        "CREATE SCHEMA " + schema);
    String columns =
        "(id BIGINT PRIMARY KEY, name TEXT, amount DOUBLE PRECISION, ts TIMESTAMPTZ,"
            + " flag BOOLEAN)";
    for (String t : List.of("hand", "tessera")) {
      JdbcBenchmark.exec(url, user, password, "CREATE TABLE " + schema + "." + t + " " + columns);
    }
    JdbcBenchmark.exec(
        url,
        user,
        password,
        "CREATE UNLOGGED TABLE "
            + schema
            + ".hand_staging (id BIGINT, name TEXT, amount DOUBLE PRECISION, ts TIMESTAMPTZ,"
            + " flag BOOLEAN)");
    spark.conf().set("spark.sql.catalog." + catalog, "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog." + catalog + ".url", url);
    spark.conf().set("spark.sql.catalog." + catalog + ".user", user);
    spark.conf().set("spark.sql.catalog." + catalog + ".password", password);
  }

  /** COPY of ids from..to, split over two threads, as {@link JdbcBenchmark#copyLimit} does. */
  private static void copyRange2(
      String url, String user, String password, String table, long from, long to) throws Exception {
    long half = from + (to - from) / 2;
    java.util.concurrent.CompletableFuture<Void> a =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> copy(url, user, password, table, from, half));
    java.util.concurrent.CompletableFuture<Void> b =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> copy(url, user, password, table, half, to));
    a.get();
    b.get();
  }

  private static void copy(
      String url, String user, String password, String table, long from, long to) {
    try {
      JdbcBenchmark.copyRangeInto(url, user, password, table, from, to);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A contender whose table is reloaded with ids 0..existing-1 (and vacuumed) before each run. */
  static Contender contender(
      String name,
      String url,
      String user,
      String password,
      String table,
      long existing,
      JdbcBenchmark.Body body) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws Exception {
        JdbcBenchmark.exec(url, user, password, "TRUNCATE TABLE " + table);
        copy(url, user, password, table, 0, existing);
        try (Connection c = DriverManager.getConnection(url, user, password);
            Statement st = c.createStatement()) {
          st.execute("VACUUM ANALYZE " + table);
        }
      }

      @Override
      public void run() throws Exception {
        body.run();
      }

      @Override
      public long count() throws Exception {
        return JdbcBenchmark.count(url, user, password, table);
      }
    };
  }

  static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
