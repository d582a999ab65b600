package io.tessera.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Appends N rows of (id bigint, name ~20 chars, amount double, ts timestamp, flag boolean) to
 * PostgreSQL with {@code local[2]}: Spark's built-in JDBC writer (default, and with
 * reWriteBatchedInserts=true and batchsize=10000) against Tessera (commit=atomic and
 * commit=direct). Every run starts from an empty table and is verified by count.
 */
final class JdbcBenchmark {
  private JdbcBenchmark() {}

  static BenchmarkRunner.Result run(
      SparkSession spark, long rows, int rounds, boolean withReferences) throws Exception {
    String url = env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String user = env("TESSERA_POSTGRESQL_USER", "root");
    String password = env("TESSERA_POSTGRESQL_PASSWORD", "");
    String schema = "tessera_bench";
    exec(
        url,
        user,
        password,
        "DROP SCHEMA IF EXISTS " + schema + " CASCADE",
        "CREATE SCHEMA " + schema);
    String columns =
        "(id BIGINT, name TEXT, amount DOUBLE PRECISION, ts TIMESTAMPTZ, flag BOOLEAN)";
    for (String t :
        List.of(
            "spark_default",
            "spark_tuned",
            "tessera_atomic",
            "tessera_direct",
            "tessera_2pc",
            "copy_limit")) {
      exec(url, user, password, "CREATE TABLE " + schema + "." + t + " " + columns);
    }

    spark.conf().set("spark.sql.catalog.bench", "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog.bench.url", url);
    spark.conf().set("spark.sql.catalog.bench.user", user);
    spark.conf().set("spark.sql.catalog.bench.password", password);

    Dataset<Row> df = customers(spark, rows);

    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    Properties tuned = new Properties();
    tuned.putAll(props);
    tuned.setProperty("reWriteBatchedInserts", "true");
    tuned.setProperty("batchsize", "10000");

    List<Contender> contenders =
        new java.util.ArrayList<>(
            List.of(
                contender(
                    "Spark df.write.jdbc (default)",
                    url,
                    user,
                    password,
                    schema + ".spark_default",
                    () ->
                        df.write()
                            .mode(SaveMode.Append)
                            .jdbc(url, schema + ".spark_default", props)),
                contender(
                    "Spark df.write.jdbc (reWriteBatchedInserts, batchsize=10000)",
                    url,
                    user,
                    password,
                    schema + ".spark_tuned",
                    () ->
                        df.write().mode(SaveMode.Append).jdbc(url, schema + ".spark_tuned", tuned)),
                contender(
                    "Tessera commit=atomic (COPY + staging)",
                    url,
                    user,
                    password,
                    schema + ".tessera_atomic",
                    () -> df.writeTo("bench." + schema + ".tessera_atomic").append()),
                contender(
                    "Tessera commit=direct (COPY)",
                    url,
                    user,
                    password,
                    schema + ".tessera_direct",
                    () ->
                        df.writeTo("bench." + schema + ".tessera_direct")
                            .option("commit", "direct")
                            .append()),
                contender(
                    "Tessera commit=two-phase (COPY, PREPARE TRANSACTION)",
                    url,
                    user,
                    password,
                    schema + ".tessera_2pc",
                    () ->
                        df.writeTo("bench." + schema + ".tessera_2pc")
                            .option("commit", "two-phase")
                            .append())));
    if (withReferences) {
      contenders.add(
          contender(
              "Physical limit: pgjdbc CopyManager, 2 threads, no Spark",
              url,
              user,
              password,
              schema + ".copy_limit",
              () -> copyLimit(url, user, password, schema + ".copy_limit", rows)));
    } else {
      contenders.removeIf(c -> !c.name().contains("default") && !c.name().contains("atomic"));
    }
    try {
      return BenchmarkRunner.run(
          String.format(
              "PostgreSQL append, %,d rows x 5 columns, %d partitions, local[2]",
              rows, Integer.getInteger("bench.jdbc.partitions", 2)),
          rows,
          rounds,
          contenders);
    } finally {
      df.unpersist();
      exec(url, user, password, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /** The same rows sent with COPY from two plain threads: what the database can take. */
  static void copyLimit(String url, String user, String password, String table, long rows)
      throws Exception {
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<Long>> parts = new java.util.ArrayList<>();
      for (int t = 0; t < 2; t++) {
        long from = t * rows / 2;
        long to = (t + 1) * rows / 2;
        parts.add(pool.submit(() -> copyRangeInto(url, user, password, table, from, to)));
      }
      for (java.util.concurrent.Future<Long> f : parts) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  /** COPY of the workload's ids {@code from..to} into {@code table} on one connection. */
  static long copyRangeInto(
      String url, String user, String password, String table, long from, long to) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      org.postgresql.copy.CopyIn in =
          c.unwrap(org.postgresql.PGConnection.class)
              .getCopyAPI()
              .copyIn("COPY " + table + " FROM STDIN");
      java.util.Random random = new java.util.Random(from);
      StringBuilder sb = new StringBuilder(1 << 16);
      for (long id = from; id < to; id++) {
        String digits = Long.toString(id);
        sb.append(id).append("\tcustomer-");
        for (int pad = digits.length(); pad < 11; pad++) {
          sb.append('0');
        }
        sb.append(digits)
            .append('\t')
            .append(random.nextDouble() * 1000)
            .append('\t')
            .append(java.time.Instant.ofEpochSecond(1_700_000_000L + id))
            .append('\t')
            .append(id % 2 == 0 ? 't' : 'f')
            .append('\n');
        if (sb.length() > 60_000) {
          byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          in.writeToCopy(b, 0, b.length);
          sb.setLength(0);
        }
      }
      byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      in.writeToCopy(b, 0, b.length);
      return in.endCopy();
    }
  }

  interface Body {
    void run() throws Exception;
  }

  static Contender contender(
      String name, String url, String user, String password, String table, Body body) {
    return new Contender() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() throws Exception {
        exec(url, user, password, "TRUNCATE TABLE " + table);
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

  /** The workload, cached: (id, name ~20 chars, amount, ts, flag) in 2 partitions. */
  static Dataset<Row> customers(SparkSession spark, long rows) {
    Dataset<Row> df = customerRows(spark, rows).cache();
    df.count();
    return df;
  }

  /** The workload's rows, generated as they are read (not cached). */
  static Dataset<Row> customerRows(SparkSession spark, long rows) {
    return spark
        .range(0, rows, 1, Integer.getInteger("bench.jdbc.partitions", 2))
        .selectExpr(
            "id",
            "concat('customer-', lpad(cast(id as string), 11, '0')) as name",
            "rand(42) * 1000 as amount",
            "timestamp_seconds(1700000000 + id) as ts",
            "id % 2 = 0 as flag");
  }

  /** Rows in {@code table}, to verify a run. */
  static long count(String url, String user, String password, String table) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static void exec(String url, String user, String password, String... sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
