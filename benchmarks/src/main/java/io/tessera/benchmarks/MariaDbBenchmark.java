package io.tessera.benchmarks;

import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Appends N rows of the JDBC workload to MariaDB with {@code local[2]}: Spark's built-in JDBC
 * writer (through Spark's MySQL dialect, at its defaults and with {@code batchsize=10000} and the
 * driver's bulk protocol) against Tessera (commit=atomic and commit=direct).
 */
final class MariaDbBenchmark {
  private MariaDbBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long rows, int rounds) throws Exception {
    String server = env("TESSERA_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/test");
    String user = env("TESSERA_MARIADB_USER", "root");
    String password = env("TESSERA_MARIADB_PASSWORD", "");
    String db = "tessera_bench";
    JdbcBenchmark.exec(
        server, user, password, "DROP DATABASE IF EXISTS " + db, "CREATE DATABASE " + db);
    String columns = "(id BIGINT, name LONGTEXT, amount DOUBLE, ts DATETIME(6), flag BOOLEAN)";
    for (String t :
        List.of(
            "spark_default", "spark_tuned", "tessera_atomic", "tessera_direct", "tessera_2pc")) {
      JdbcBenchmark.exec(server, user, password, "CREATE TABLE " + db + "." + t + " " + columns);
    }
    spark.conf().set("spark.sql.catalog.mbench", "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog.mbench.url", server);
    spark.conf().set("spark.sql.catalog.mbench.user", user);
    spark.conf().set("spark.sql.catalog.mbench.password", password);

    // Spark's built-in writer needs its MySQL dialect (backtick quoting): a jdbc:mysql: URL that
    // MariaDB Connector/J accepts with permitMysqlScheme.
    String sparkUrl =
        server.replace("jdbc:mariadb:", "jdbc:mysql:")
            + (server.contains("?") ? "&" : "?")
            + "permitMysqlScheme";
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("driver", "org.mariadb.jdbc.Driver");
    Properties tuned = new Properties();
    tuned.putAll(props);
    tuned.setProperty("batchsize", "10000");
    tuned.setProperty("useBulkStmts", "true");

    Dataset<Row> df = JdbcBenchmark.customers(spark, rows);
    try {
      return BenchmarkRunner.run(
          String.format(
              "MariaDB append, %,d rows x 5 columns, %d partitions, local[2]",
              rows, Integer.getInteger("bench.jdbc.partitions", 2)),
          rows,
          rounds,
          List.of(
              JdbcBenchmark.contender(
                  "Spark df.write.jdbc (default)",
                  server,
                  user,
                  password,
                  db + ".spark_default",
                  () ->
                      df.write()
                          .mode(SaveMode.Append)
                          .jdbc(sparkUrl, db + ".spark_default", props)),
              JdbcBenchmark.contender(
                  "Spark df.write.jdbc (batchsize=10000, useBulkStmts)",
                  server,
                  user,
                  password,
                  db + ".spark_tuned",
                  () ->
                      df.write().mode(SaveMode.Append).jdbc(sparkUrl, db + ".spark_tuned", tuned)),
              JdbcBenchmark.contender(
                  "Tessera commit=atomic (batched INSERT + staging)",
                  server,
                  user,
                  password,
                  db + ".tessera_atomic",
                  () -> df.writeTo("mbench." + db + ".tessera_atomic").append()),
              JdbcBenchmark.contender(
                  "Tessera commit=direct (batched INSERT)",
                  server,
                  user,
                  password,
                  db + ".tessera_direct",
                  () ->
                      df.writeTo("mbench." + db + ".tessera_direct")
                          .option("commit", "direct")
                          .append()),
              JdbcBenchmark.contender(
                  "Tessera commit=two-phase (batched INSERT, XA PREPARE)",
                  server,
                  user,
                  password,
                  db + ".tessera_2pc",
                  () ->
                      df.writeTo("mbench." + db + ".tessera_2pc")
                          .option("commit", "two-phase")
                          .append())));
    } finally {
      df.unpersist();
      JdbcBenchmark.exec(server, user, password, "DROP DATABASE IF EXISTS " + db);
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
