package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.testing.DatabaseKind;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.QueryExecution;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.util.QueryExecutionListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Catalog operations, secrets, metrics and staging cleanup (dialect-independent, on H2). */
class JdbcCatalogIT {
  static final SparkSession spark = SharedSpark.session();
  TestDatabase db;
  String catalog;

  @BeforeEach
  void setUp() {
    db = TestDatabase.create(DatabaseKind.H2);
    catalog = Names.unique("cat");
    JdbcContractIT.registerCatalog(catalog, db.url(), db.user(), db.password());
  }

  @AfterEach
  void tearDown() throws Exception {
    db.close();
  }

  @Test
  void namespacesAndTablesThroughSql() throws Exception {
    String ns = catalog + ".extra_ns";
    spark.sql("CREATE NAMESPACE " + ns);
    spark.sql("CREATE TABLE " + ns + ".a (id BIGINT)");
    spark.sql("CREATE TABLE " + ns + ".b (id BIGINT)");
    spark.sql("ALTER TABLE " + ns + ".b RENAME TO extra_ns.c");

    assertThat(spark.sql("SHOW NAMESPACES IN " + catalog).as(Encoders.STRING()).collectAsList())
        .contains("extra_ns", db.schema());
    assertThat(
            spark
                .sql("SHOW TABLES IN " + ns)
                .select("tableName")
                .as(Encoders.STRING())
                .collectAsList())
        .containsExactlyInAnyOrder("a", "c");
    assertThatThrownBy(() -> spark.sql("DROP NAMESPACE " + ns)).hasMessageContaining("extra_ns");

    spark.sql("DROP TABLE " + ns + ".a");
    spark.sql("DROP NAMESPACE " + ns + " CASCADE");
    assertThat(spark.sql("SHOW NAMESPACES IN " + catalog).as(Encoders.STRING()).collectAsList())
        .doesNotContain("extra_ns");
    assertThatThrownBy(() -> spark.table(catalog + "." + db.schema() + ".missing"))
        .hasMessageContaining("missing");
  }

  /** numPartitions caps the writing tasks (connections) whatever the input's partitioning. */
  @Test
  void numPartitionsCapsTheWritingTasks() throws Exception {
    String t = catalog + "." + db.schema() + ".capped";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING)");
    java.util.concurrent.atomic.AtomicInteger maxTasks =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.Map<Integer, Integer> tasksPerStage = new java.util.concurrent.ConcurrentHashMap<>();
    org.apache.spark.scheduler.SparkListener listener =
        new org.apache.spark.scheduler.SparkListener() {
          @Override
          public void onStageCompleted(
              org.apache.spark.scheduler.SparkListenerStageCompleted stage) {
            tasksPerStage.put(stage.stageInfo().stageId(), stage.stageInfo().numTasks());
          }
        };
    spark.sparkContext().addSparkListener(listener);
    try {
      spark
          .range(0, 1000, 1, 8)
          .selectExpr("id", "concat('n', id) AS name")
          .writeTo(t)
          .option("numPartitions", "3")
          .append();
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } finally {
      spark.sparkContext().removeSparkListener(listener);
    }
    // The input stage has 8 tasks; the writing stage after the shuffle has 3.
    assertThat(tasksPerStage.values()).contains(8, 3).doesNotContain(4, 5, 6, 7);
    assertThat(spark.table(t).count()).isEqualTo(1000);
    assertThat(spark.table(t).selectExpr("sum(id)").first().getLong(0)).isEqualTo(999L * 1000 / 2);
  }

  @Test
  void connectionOptionsCannotBeChangedPerWrite() throws Exception {
    String t = catalog + "." + db.schema() + ".events";
    spark.sql("CREATE TABLE " + t + " (id BIGINT)");
    String elsewhere = "jdbc:h2:mem:" + Names.unique("other") + ";DB_CLOSE_DELAY=-1";

    for (String[] option :
        new String[][] {{"url", elsewhere}, {"USER", "intruder"}, {"password", "s3cr3t-xyz"}}) {
      assertThatThrownBy(() -> spark.range(3).writeTo(t).option(option[0], option[1]).append())
          .hasMessageContaining("[INVALID_OPTION_VALUE] Option '" + option[0].toLowerCase())
          .hasMessageContaining("cannot be set on a write to")
          .hasMessageNotContaining("s3cr3t-xyz");
    }
    assertThat(spark.table(t).count()).isZero();
  }

  @Test
  void passwordNeverAppearsInPlansDescriptionsOrErrors() throws Exception {
    String secret = "hunter2-" + Names.unique("pw");
    String url = "jdbc:h2:mem:" + Names.unique("pwdb") + ";DB_CLOSE_DELAY=-1";
    try (Connection admin = DriverManager.getConnection(url, "sa", secret)) {
      admin.createStatement().execute("CREATE SCHEMA \"s\"");
      String cat = Names.unique("seccat");
      JdbcContractIT.registerCatalog(cat, url, "sa", secret);
      String t = cat + ".s.t";
      spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING)");
      spark.sql("INSERT INTO " + t + " VALUES (1, 'a')");

      String explainWrite =
          spark.sql("EXPLAIN EXTENDED INSERT INTO " + t + " VALUES (2, 'b')").first().getString(0);
      String explainRead = spark.sql("EXPLAIN EXTENDED SELECT * FROM " + t).first().getString(0);
      assertThat(explainWrite).contains("tessera-jdbc[").doesNotContain(secret);
      assertThat(explainRead).contains("JDBC").doesNotContain(secret);

      // A wrong password given in the URL itself must not be echoed back either.
      String badCat = Names.unique("badcat");
      spark.conf().set("spark.sql.catalog." + badCat, JdbcCatalog.class.getName());
      spark
          .conf()
          .set("spark.sql.catalog." + badCat + ".url", url + ";USER=sa;PASSWORD=" + secret + "x");
      assertThatThrownBy(() -> spark.table(badCat + ".s.t").count())
          .hasMessageContaining("[CONNECTION_FAILED]")
          .satisfies(e -> assertThat(stackText(e)).doesNotContain(secret));

      assertThat(spark.table(t).count()).isEqualTo(1);
    }
  }

  private static String stackText(Throwable e) {
    java.io.StringWriter w = new java.io.StringWriter();
    e.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }

  @Test
  void writeReportsRowsBytesAndCommitTimeAsSqlMetrics() throws Exception {
    String t = catalog + "." + db.schema() + ".m";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING)");
    Map<String, Long> metrics = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(1);
    QueryExecutionListener listener =
        new QueryExecutionListener() {
          @Override
          public void onSuccess(String funcName, QueryExecution qe, long durationNs) {
            collect(qe.executedPlan());
            done.countDown();
          }

          private void collect(SparkPlan plan) {
            scala.jdk.javaapi.CollectionConverters.asJava(plan.metrics())
                .forEach((k, v) -> metrics.put(k, v.value()));
            scala.jdk.javaapi.CollectionConverters.asJava(plan.children()).forEach(this::collect);
          }

          @Override
          public void onFailure(String funcName, QueryExecution qe, Exception exception) {}
        };
    spark.listenerManager().register(listener);
    try {
      spark.range(0, 1234, 1, 3).selectExpr("id", "'abc' as name").writeTo(t).append();
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      spark.listenerManager().unregister(listener);
    }
    assertThat(metrics).containsEntry(TesseraMetrics.ROWS_WRITTEN, 1234L);
    assertThat(metrics.get(TesseraMetrics.BYTES_WRITTEN)).isGreaterThanOrEqualTo(1234L * 11);
    assertThat(metrics).containsKey(TesseraMetrics.COMMIT_DURATION_MS);
  }

  @Test
  void cleanupProcedureDropsOnlyOldStagingTables() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    String old = JdbcDialect.stagingTableName(now - 7200, "aaaa");
    String fresh = JdbcDialect.stagingTableName(now, "bbbb");
    // A user's table that only looks like a staging table: no valid checksum, never dropped.
    String lookalike = "tessera_stg_" + (now - 7200) + "_cccc";
    db.execute(
        "CREATE TABLE " + db.qualified(old) + " (x INT)",
        "CREATE TABLE " + db.qualified(fresh) + " (x INT)",
        "CREATE TABLE " + db.qualified(lookalike) + " (x INT)",
        "CREATE TABLE " + db.qualified("tessera_stg_notes") + " (x INT)",
        "CREATE TABLE " + db.qualified("keep") + " (x INT)");

    List<String> dropped =
        spark
            .sql(
                "CALL "
                    + catalog
                    + ".system.cleanup(namespace => '"
                    + db.schema()
                    + "', older_than_minutes => 60)")
            .as(Encoders.STRING())
            .collectAsList();

    assertThat(dropped).containsExactly(old);
    assertThat(db.tables())
        .containsExactlyInAnyOrder(fresh, lookalike, "tessera_stg_notes", "keep");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CALL "
                        + catalog
                        + ".system.cleanup(namespace => '"
                        + db.schema()
                        + "', older_than_minutes => 0)"))
        .hasMessageContaining("'older_than_minutes' has value 0 but must be at least 1");
    assertThat(
            spark
                .sql("SHOW TABLES IN " + catalog + "." + db.schema())
                .select("tableName")
                .as(Encoders.STRING())
                .collectAsList())
        // Only real staging tables (valid checksum) are hidden; look-alike user tables are listed.
        .containsExactlyInAnyOrder("keep", lookalike, "tessera_stg_notes");
  }
}
