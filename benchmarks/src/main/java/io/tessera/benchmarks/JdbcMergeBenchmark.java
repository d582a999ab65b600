package io.tessera.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * MERGE of C changed rows (half updates of existing keys, half new keys) into an N-row PostgreSQL
 * table with a primary key: a hand-written path (each task COPYs its rows into an UNLOGGED staging
 * table, then {@code UPDATE ... FROM} and {@code INSERT ... ON CONFLICT DO NOTHING} in one
 * transaction) against Tessera's {@code MERGE INTO ... WHEN MATCHED THEN UPDATE SET * WHEN NOT
 * MATCHED THEN INSERT *} from a cached DataFrame. Before each run the table is reloaded with ids
 * 0..N-1 (not timed); after it, it must hold N + C/2 rows.
 */
final class JdbcMergeBenchmark {
  private JdbcMergeBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long rows, long changes, int rounds)
      throws Exception {
    String url =
        UpsertBenchmark.env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String user = UpsertBenchmark.env("TESSERA_POSTGRESQL_USER", "root");
    String password = UpsertBenchmark.env("TESSERA_POSTGRESQL_PASSWORD", "");
    String schema = "tessera_bench_merge";
    UpsertBenchmark.prepareTables(spark, url, user, password, schema, "benchm");
    long updates = changes / 2;
    long stride = Math.max(1, rows / updates);
    // Updates spread over the whole key range (every stride-th key), inserts after it.
    Dataset<Row> df =
        spark
            .range(0, rows + changes - updates, 1, 2)
            .where(
                "id >= " + rows + " OR (id % " + stride + " = 0 AND id < " + stride * updates + ")")
            // As JdbcBenchmark.customerRows, but deterministic (Spark refuses a MERGE source
            // with rand()), with new amounts.
            .selectExpr(
                "id",
                "concat('customer-', lpad(cast(id as string), 11, '0')) as name",
                "CAST(id * 0.001 + 1 AS DOUBLE) AS amount",
                "timestamp_seconds(1700000000 + id) as ts",
                "id % 2 = 0 as flag")
            .repartition(2)
            .cache();
    long n = df.count();
    if (n != changes) {
      throw new IllegalStateException("built " + n + " changed rows, not " + changes);
    }
    df.createOrReplaceTempView("tessera_bench_changes");
    long expected = rows + changes - updates;
    try {
      return BenchmarkRunner.run(
          String.format(
              "PostgreSQL MERGE, %,d changed rows (%,d updates, %,d inserts) into %,d, local[2]",
              changes, updates, changes - updates, rows),
          expected,
          rounds,
          List.of(
              UpsertBenchmark.contender(
                  "Hand-written: COPY (per task) into staging + UPDATE ... FROM + INSERT ... ON"
                      + " CONFLICT DO NOTHING",
                  url,
                  user,
                  password,
                  schema + ".hand",
                  rows,
                  () -> {
                    JdbcBenchmark.exec(
                        url, user, password, "TRUNCATE TABLE " + schema + ".hand_staging");
                    String staging = schema + ".hand_staging";
                    df.foreachPartition(
                        (org.apache.spark.api.java.function.ForeachPartitionFunction<Row>)
                            it -> copyRows(url, user, password, staging, it));
                    try (Connection c = DriverManager.getConnection(url, user, password);
                        Statement st = c.createStatement()) {
                      c.setAutoCommit(false);
                      st.executeUpdate(
                          "UPDATE "
                              + schema
                              + ".hand t SET name = s.name, amount = s.amount, ts = s.ts, flag ="
                              + " s.flag FROM "
                              + schema
                              + ".hand_staging s WHERE t.id = s.id");
                      st.executeUpdate(
                          "INSERT INTO "
                              + schema
                              + ".hand SELECT * FROM "
                              + schema
                              + ".hand_staging ON CONFLICT (id) DO NOTHING");
                      c.commit();
                    }
                  }),
              UpsertBenchmark.contender(
                  "Tessera MERGE INTO (delta-based: scan, stage with COPY, one publish"
                      + " transaction)",
                  url,
                  user,
                  password,
                  schema + ".tessera",
                  rows,
                  () ->
                      spark.sql(
                          "MERGE INTO benchm."
                              + schema
                              + ".tessera t USING tessera_bench_changes s ON t.id = s.id"
                              + " WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"))));
    } finally {
      df.unpersist();
      JdbcBenchmark.exec(url, user, password, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /** What a hand-written job does in each task: COPY its rows in PostgreSQL's text format. */
  private static void copyRows(
      String url, String user, String password, String table, java.util.Iterator<Row> rows)
      throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      org.postgresql.copy.CopyIn in =
          c.unwrap(org.postgresql.PGConnection.class)
              .getCopyAPI()
              .copyIn("COPY " + table + " FROM STDIN");
      StringBuilder sb = new StringBuilder(1 << 16);
      while (rows.hasNext()) {
        Row r = rows.next();
        sb.append(r.getLong(0))
            .append('\t')
            .append(r.getString(1))
            .append('\t')
            .append(r.getDouble(2))
            .append('\t')
            .append(r.getTimestamp(3).toInstant())
            .append('\t')
            .append(r.getBoolean(4) ? 't' : 'f')
            .append('\n');
        if (sb.length() > 60_000) {
          byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          in.writeToCopy(b, 0, b.length);
          sb.setLength(0);
        }
      }
      byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      in.writeToCopy(b, 0, b.length);
      in.endCopy();
    }
  }
}
