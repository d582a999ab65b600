package io.tessera.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What atomic CTAS / RTAS cost over a plain append of the same rows: into PostgreSQL through the
 * JDBC catalog and into a Parquet table of the file catalog. The append goes into an empty existing
 * table; CTAS creates the table ({@code writeTo(t).create()}); RTAS replaces an existing table of
 * the same size ({@code writeTo(t).replace()}).
 */
final class StagingBenchmark {
  private StagingBenchmark() {}

  interface Body {
    void run() throws Exception;
  }

  static List<BenchmarkRunner.Result> run(SparkSession spark, long rows, int rounds)
      throws Exception {
    Dataset<Row> df = JdbcBenchmark.customers(spark, rows);
    try {
      return List.of(postgres(spark, df, rows, rounds), files(spark, df, rows, rounds));
    } finally {
      df.unpersist();
    }
  }

  private static BenchmarkRunner.Result postgres(
      SparkSession spark, Dataset<Row> df, long rows, int rounds) throws Exception {
    String url = env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String user = env("TESSERA_POSTGRESQL_USER", "root");
    String password = env("TESSERA_POSTGRESQL_PASSWORD", "");
    String schema = "tessera_bench_staging";
    JdbcBenchmark.exec(
        url,
        user,
        password,
        "DROP SCHEMA IF EXISTS " + schema + " CASCADE",
        "CREATE SCHEMA " + schema);
    spark.conf().set("spark.sql.catalog.stagebench", "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog.stagebench.url", url);
    spark.conf().set("spark.sql.catalog.stagebench.user", user);
    spark.conf().set("spark.sql.catalog.stagebench.password", password);
    String cat = "stagebench." + schema + ".";
    String columns =
        "(id BIGINT, name TEXT, amount DOUBLE PRECISION, ts TIMESTAMPTZ, flag BOOLEAN)";
    try {
      return BenchmarkRunner.run(
          String.format("PostgreSQL CTAS / RTAS vs append, %,d rows x 5 columns, local[2]", rows),
          rows,
          rounds,
          List.of(
              jdbc(
                  "Tessera append into an empty table",
                  url,
                  user,
                  password,
                  schema + ".appended",
                  new String[] {
                    "DROP TABLE IF EXISTS " + schema + ".appended",
                    "CREATE TABLE " + schema + ".appended " + columns
                  },
                  () -> df.writeTo(cat + "appended").append()),
              jdbc(
                  "Tessera CTAS (writeTo.create)",
                  url,
                  user,
                  password,
                  schema + ".created",
                  new String[] {"DROP TABLE IF EXISTS " + schema + ".created"},
                  () -> df.writeTo(cat + "created").create()),
              jdbc(
                  "Tessera RTAS (writeTo.replace) of a table of the same size",
                  url,
                  user,
                  password,
                  schema + ".replaced",
                  new String[] {},
                  () -> {
                    if (!spark.catalog().tableExists(cat + "replaced")) {
                      df.writeTo(cat + "replaced").create();
                    }
                  },
                  () -> df.writeTo(cat + "replaced").replace())));
    } finally {
      JdbcBenchmark.exec(url, user, password, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  private static BenchmarkRunner.Result files(
      SparkSession spark, Dataset<Row> df, long rows, int rounds) throws Exception {
    Path warehouse = Files.createTempDirectory("tessera-staging-bench");
    spark.conf().set("spark.sql.catalog.stagefiles", "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog.stagefiles.warehouse", warehouse.toString());
    spark.sql("CREATE NAMESPACE IF NOT EXISTS stagefiles.db");
    String schema = "id BIGINT, name STRING, amount DOUBLE, ts TIMESTAMP, flag BOOLEAN";
    try {
      return BenchmarkRunner.run(
          String.format("Parquet CTAS / RTAS vs append, %,d rows x 5 columns, local[2]", rows),
          rows,
          rounds,
          List.of(
              file(
                  spark,
                  "Tessera append into an empty table",
                  "stagefiles.db.appended",
                  () -> {
                    spark.sql("DROP TABLE IF EXISTS stagefiles.db.appended");
                    spark.sql("CREATE TABLE stagefiles.db.appended (" + schema + ")");
                  },
                  () -> df.writeTo("stagefiles.db.appended").append()),
              file(
                  spark,
                  "Tessera CTAS (writeTo.create)",
                  "stagefiles.db.created",
                  () -> spark.sql("DROP TABLE IF EXISTS stagefiles.db.created"),
                  () -> df.writeTo("stagefiles.db.created").create()),
              file(
                  spark,
                  "Tessera RTAS (writeTo.replace) of a table of the same size",
                  "stagefiles.db.replaced",
                  () -> {
                    if (!spark.catalog().tableExists("stagefiles.db.replaced")) {
                      df.writeTo("stagefiles.db.replaced").create();
                    }
                  },
                  () -> df.writeTo("stagefiles.db.replaced").replace())));
    } finally {
      FileBenchmark.deleteTree(warehouse);
    }
  }

  interface Count {
    long get() throws Exception;
  }

  private static Contender jdbc(
      String name,
      String url,
      String user,
      String password,
      String table,
      String[] resetSql,
      Body body) {
    return jdbc(name, url, user, password, table, resetSql, () -> {}, body);
  }

  private static Contender jdbc(
      String name,
      String url,
      String user,
      String password,
      String table,
      String[] resetSql,
      Body resetBody,
      Body body) {
    return contender(
        name,
        () -> {
          JdbcBenchmark.exec(url, user, password, resetSql);
          resetBody.run();
        },
        body,
        () -> JdbcBenchmark.count(url, user, password, table));
  }

  private static Contender file(
      SparkSession spark, String name, String table, Body reset, Body body) {
    return contender(name, reset, body, () -> spark.table(table).count());
  }

  private static Contender contender(String name, Body reset, Body body, Count count) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws Exception {
        reset.run();
      }

      @Override
      public void run() throws Exception {
        body.run();
      }

      @Override
      public long count() throws Exception {
        return count.get();
      }
    };
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
