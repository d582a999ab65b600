package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.TableLog;
import io.tessera.testing.FaultInjection;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DELETE, UPDATE and MERGE INTO on file tables (copy-on-write): exact rows after each statement,
 * through the catalog and for a plain reader of the folder, on partitioned and unpartitioned tables
 * of two formats; pruning by partitions and statistics; failures and conflicts leave the table
 * exactly as it was.
 */
class FileRowLevelIT {
  static SparkSession spark;
  String catalog;
  Path warehouse;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    FaultInjection.register(spark);
  }

  @BeforeEach
  void registerCatalog() {
    spark = SharedSpark.session();
    catalog = Names.unique("files");
    warehouse = TestPaths.newFolder("warehouse");
    spark.conf().set("spark.sql.catalog." + catalog, FileCatalog.class.getName());
    spark.conf().set("spark.sql.catalog." + catalog + ".warehouse", warehouse.toString());
    spark.sql("CREATE NAMESPACE " + catalog + ".db");
  }

  /** The table's rows as the test expects them: id -> "id,name,day" (name may be null). */
  static final class Model {
    final TreeMap<Long, String[]> rows = new TreeMap<>();

    void put(long id, String name, String day) {
      rows.put(id, new String[] {name, day});
    }

    void deleteIf(Predicate<Long> p) {
      rows.keySet().removeIf(p);
    }

    List<String> strings() {
      List<String> out = new ArrayList<>();
      rows.forEach((id, r) -> out.add(id + "," + r[0] + "," + r[1]));
      return out;
    }
  }

  static String day(long id) {
    return "d" + (id % 3);
  }

  /** Rows 0..29 in three days; every 7th has a NULL name. */
  Model create(String t, String format, boolean partitioned) throws Exception {
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, name STRING, day STRING) USING "
            + format
            + (partitioned ? " PARTITIONED BY (day)" : ""));
    spark
        .range(0, 30, 1, 3)
        .selectExpr(
            "id",
            "CASE WHEN id % 7 = 3 THEN NULL ELSE concat('n', id) END AS name",
            "concat('d', id % 3) AS day")
        .writeTo(t)
        .append();
    Model m = new Model();
    for (long i = 0; i < 30; i++) {
      m.put(i, i % 7 == 3 ? null : "n" + i, day(i));
    }
    return m;
  }

  static List<String> rows(String sqlOrTable) {
    List<String> out = new ArrayList<>();
    for (Row r :
        spark
            .sql(
                sqlOrTable.startsWith("SELECT")
                    ? sqlOrTable
                    : "SELECT id, name, day FROM " + sqlOrTable + " ORDER BY id")
            .collectAsList()) {
      out.add(r.get(0) + "," + r.get(1) + "," + r.get(2));
    }
    return out;
  }

  List<String> plainRead(String format, String table) {
    List<String> out = new ArrayList<>();
    for (Row r :
        spark
            .read()
            .format(format)
            .schema("id BIGINT, name STRING, day STRING")
            .load(warehouse.resolve("db").resolve(table).toString())
            .orderBy("id")
            .collectAsList()) {
      out.add(r.get(0) + "," + r.get(1) + "," + r.get(2));
    }
    return out;
  }

  TableLog log(String table) {
    return new TableLog(
        new org.apache.hadoop.fs.Path(warehouse.resolve("db").resolve(table).toString()),
        spark.sessionState().newHadoopConf());
  }

  LogEntry lastEntry(String table) {
    TableLog log = log(table);
    long v = log.latestVersion();
    return log.entries(v, v).get(0);
  }

  List<Path> stagingFiles(String table) throws Exception {
    Path staging = warehouse.resolve("db").resolve(table).resolve("_tessera/staging");
    if (!Files.exists(staging)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(staging)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }

  void check(Model m, String t, String format, String table) {
    List<String> want = m.strings();
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, table)).isEqualTo(want);
    assertThat(rows(t)).isEqualTo(want);
  }

  @ParameterizedTest(name = "{0}, partitioned={1}")
  @CsvSource({"parquet,true", "parquet,false", "orc,true", "json,false"})
  void deleteUpdateAndMergeGiveExactRows(String format, boolean partitioned) throws Exception {
    String table = "t_" + format + (partitioned ? "_p" : "");
    String t = catalog + ".db." + table;
    Model m = create(t, format, partitioned);
    long before = log(table).latestVersion();
    List<String> initial = m.strings();

    // A condition on a data column, with NULLs: NULL = 'n5' is not TRUE, so NULL rows stay.
    spark.sql("DELETE FROM " + t + " WHERE id % 5 = 0 OR name = 'n7'");
    m.deleteIf(id -> id % 5 == 0 || id == 7);
    check(m, t, format, table);
    assertThat(lastEntry(table).operation()).isEqualTo("delete");

    spark.sql("DELETE FROM " + t + " WHERE name IS NULL AND id > 20");
    m.deleteIf(id -> id > 20 && id % 7 == 3);
    check(m, t, format, table);

    spark.sql("UPDATE " + t + " SET name = concat(coalesce(name, 'null'), '_u') WHERE id < 12");
    m.rows.forEach(
        (id, r) -> {
          if (id < 12) {
            r[0] = (r[0] == null ? "null" : r[0]) + "_u";
          }
        });
    check(m, t, format, table);
    assertThat(lastEntry(table).operation()).isEqualTo("update");

    String source = Names.unique("src");
    spark
        .range(8, 40)
        .selectExpr("id", "concat('m', id) AS name", "concat('d', id % 3) AS day")
        .where("id % 4 <> 1")
        .createOrReplaceTempView(source);
    spark.sql(
        "MERGE INTO "
            + t
            + " t USING "
            + source
            + " s ON t.id = s.id"
            + " WHEN MATCHED AND s.id % 2 = 0 THEN DELETE"
            + " WHEN MATCHED THEN UPDATE SET name = s.name"
            + " WHEN NOT MATCHED AND s.id < 35 THEN INSERT *"
            + " WHEN NOT MATCHED BY SOURCE AND t.id < 4 THEN UPDATE SET name = 'gone'");
    TreeMap<Long, String[]> next = new TreeMap<>();
    java.util.Set<Long> src = new java.util.TreeSet<>();
    for (long i = 8; i < 40; i++) {
      if (i % 4 != 1) {
        src.add(i);
      }
    }
    m.rows.forEach(
        (id, r) -> {
          if (src.contains(id)) {
            if (id % 2 != 0) {
              next.put(id, new String[] {"m" + id, r[1]});
            }
          } else {
            next.put(id, id < 4 ? new String[] {"gone", r[1]} : r);
          }
        });
    for (long id : src) {
      if (!m.rows.containsKey(id) && id < 35) {
        next.put(id, new String[] {"m" + id, day(id)});
      }
    }
    int sizeBefore = m.rows.size();
    m.rows.clear();
    m.rows.putAll(next);
    check(m, t, format, table);
    assertThat(lastEntry(table).operation()).isEqualTo("merge");
    Row h = spark.sql("CALL " + catalog + ".system.history(table => 'db." + table + "')").first();
    assertThat(h.<String>getAs("operation")).isEqualTo("merge");
    assertThat(h.<Long>getAs("files_removed")).isPositive();
    assertThat(h.<Long>getAs("rows_added") - h.<Long>getAs("rows_removed"))
        .isEqualTo(m.rows.size() - sizeBefore);
    assertThat(stagingFiles(table)).isEmpty();

    // Time travel to the version before the statements.
    assertThat(rows("SELECT id, name, day FROM " + t + " VERSION AS OF " + before + " ORDER BY id"))
        .isEqualTo(initial);
  }

  /** The number of files the query's scan reads. */
  static long filesRead(String sql) {
    org.apache.spark.sql.execution.SparkPlan plan = spark.sql(sql).queryExecution().executedPlan();
    long n = 0;
    for (org.apache.spark.sql.execution.SparkPlan leaf :
        scala.jdk.javaapi.CollectionConverters.asJava(plan.collectLeaves())) {
      if (leaf instanceof org.apache.spark.sql.execution.datasources.v2.BatchScanExec b) {
        for (org.apache.spark.sql.connector.read.InputPartition p :
            scala.jdk.javaapi.CollectionConverters.asJava(b.inputPartitions())) {
          n += ((org.apache.spark.sql.execution.datasources.FilePartition) p).files().length;
        }
      }
    }
    return n;
  }

  @Test
  void statisticsPruneTheFilesReadAndRewritten() throws Exception {
    String t = catalog + ".db.pruned";
    Model m = create(t, "parquet", false); // three files: ids 0-9, 10-19, 20-29
    assertThat(log("pruned").snapshot().files()).hasSize(3);
    assertThat(filesRead("SELECT * FROM " + t + " WHERE id = 15")).isEqualTo(1);
    assertThat(filesRead("SELECT * FROM " + t + " WHERE id > 15 AND name = 'n25'")).isEqualTo(1);
    assertThat(filesRead("SELECT * FROM " + t + " WHERE id IN (1, 28)")).isEqualTo(2);
    assertThat(filesRead("SELECT * FROM " + t + " WHERE id = 100 OR name IS NULL")).isEqualTo(3);
    assertThat(filesRead("SELECT * FROM " + t + " WHERE id < 0")).isZero();
    assertThat(rows("SELECT id, name, day FROM " + t + " WHERE id = 15 ORDER BY id"))
        .containsExactly("15,n15,d0");

    List<String> before =
        log("pruned").snapshot().files().stream().map(AddFile::path).sorted().toList();
    java.util.Map<String, Long> metrics =
        io.tessera.testing.SqlMetrics.ofCommand(spark.sql("DELETE FROM " + t + " WHERE id = 15"));
    m.deleteIf(id -> id == 15);
    assertThat(metrics)
        .containsEntry("tesseraFilesRewritten", 1L)
        .containsEntry("tesseraFilesSkipped", 2L)
        .containsEntry("tesseraRowsInRewrittenFiles", 10L)
        .containsEntry("tesseraRowsWritten", 9L);
    check(m, t, "parquet", "pruned");
    LogEntry e = lastEntry("pruned");
    assertThat(e.remove()).hasSize(1);
    assertThat(before).contains(e.remove().get(0));
    assertThat(e.add()).hasSize(1);
    assertThat(e.add().get(0).rows()).isEqualTo(9);

    spark.sql("UPDATE " + t + " SET name = 'x' WHERE id >= 27");
    m.rows.forEach((id, r) -> r[0] = id >= 27 ? "x" : r[0]);
    check(m, t, "parquet", "pruned");
    assertThat(lastEntry("pruned").remove()).hasSize(1);

    // A statement no file can match commits nothing.
    long v = log("pruned").latestVersion();
    spark.sql("DELETE FROM " + t + " WHERE id > 1000");
    spark.sql("UPDATE " + t + " SET name = 'y' WHERE name = 'zzz'");
    assertThat(log("pruned").latestVersion()).isEqualTo(v);
    check(m, t, "parquet", "pruned");
  }

  @Test
  void aDeleteByPartitionColumnsRemovesWholePartitionsWithoutRewriting() throws Exception {
    String t = catalog + ".db.bypart";
    Model m = create(t, "orc", true);
    List<String> d1 =
        log("bypart").snapshot().files().stream()
            .filter(f -> "d1".equals(f.partition().get("day")))
            .map(AddFile::path)
            .sorted()
            .toList();
    assertThat(d1).isNotEmpty();
    spark.sql("DELETE FROM " + t + " WHERE day = 'd1'");
    m.deleteIf(id -> id % 3 == 1);
    check(m, t, "orc", "bypart");
    LogEntry e = lastEntry("bypart");
    assertThat(e.operation()).startsWith("delete where");
    assertThat(e.add()).isEmpty();
    assertThat(e.remove().stream().sorted().toList()).isEqualTo(d1);

    spark.sql("DELETE FROM " + t);
    m.rows.clear();
    check(m, t, "orc", "bypart");
    assertThat(log("bypart").snapshot().files()).isEmpty();
  }

  @Test
  void aTaskFailingOnceIsRetriedAndAFailingStatementChangesNothing() throws Exception {
    String t = catalog + ".db.faults";
    Model m = create(t, "parquet", true);
    spark.sql("UPDATE " + t + " SET id = fail_first_attempt(id, 4L), name = 'u' WHERE id < 6");
    m.rows.forEach((id, r) -> r[0] = id < 6 ? "u" : r[0]);
    check(m, t, "parquet", "faults");

    long v = log("faults").latestVersion();
    assertThatThrownBy(
            () ->
                spark.sql("UPDATE " + t + " SET id = fail_always(id, 4L), name = 'v' WHERE id < 6"))
        .hasMessageContaining("injected failure");
    String source = Names.unique("src");
    spark
        .range(0, 40)
        .selectExpr("id", "'m' AS name", "'d9' AS day")
        .createOrReplaceTempView(source);
    assertThatThrownBy(
            () ->
                spark.sql(
                    "MERGE INTO "
                        + t
                        + " t USING "
                        + source
                        + " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"
                        + " WHEN NOT MATCHED THEN INSERT (id, name, day)"
                        + " VALUES (fail_always(s.id, 35L), s.name, s.day)"))
        .hasMessageContaining("injected failure");
    assertThat(log("faults").latestVersion()).isEqualTo(v);
    check(m, t, "parquet", "faults");
    assertThat(stagingFiles("faults")).isEmpty();
  }

  @Test
  void aMergeMatchingOneTargetRowTwiceFailsAndChangesNothing() throws Exception {
    String t = catalog + ".db.twice";
    Model m = create(t, "parquet", false);
    String source = Names.unique("src");
    spark
        .sql("SELECT 5L AS id, 'a' AS name UNION ALL SELECT 5L, 'b'")
        .createOrReplaceTempView(source);
    long v = log("twice").latestVersion();
    assertThatThrownBy(
            () ->
                spark.sql(
                    "MERGE INTO "
                        + t
                        + " t USING "
                        + source
                        + " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"))
        .hasMessageContaining("MERGE_CARDINALITY_VIOLATION");
    assertThat(log("twice").latestVersion()).isEqualTo(v);
    check(m, t, "parquet", "twice");
    assertThat(stagingFiles("twice")).isEmpty();
  }

  /** Runs SQL on another thread just before this JVM's next log create (see {@link #race}). */
  java.util.concurrent.ExecutorService other;

  /**
   * Arms {@code sql} to run and commit on another thread right before the next log entry create in
   * this JVM (the statement under test then loses the race for its version).
   */
  void beforeNextCommit(String sql) {
    TableLog.runBeforeNextCreateForTests(
        () -> {
          try {
            other.submit(() -> spark.sql(sql)).get();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  interface Race {
    void run() throws Exception;
  }

  /** Runs {@code body} with {@link #beforeNextCommit} available; disarms it afterwards. */
  void race(Race body) throws Exception {
    other = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      // A thread made outside any query (a thread made during one would inherit its id).
      other.submit(() -> {}).get();
      body.run();
    } finally {
      TableLog.runBeforeNextCreateForTests(null);
      other.shutdownNow();
    }
  }

  @Test
  void concurrentCommitsConflictOnlyOnTheFilesAndPartitionsRewritten() throws Exception {
    String t = catalog + ".db.race";
    Model m = create(t, "parquet", true);
    race(
        () -> {
          java.util.function.Consumer<String> before = this::beforeNextCommit;

          // An append to another partition lands, and so does the DELETE (id 4 is in d1). Without
          // the partition condition, the statistics of ids 0-9 would choose a file of every day.
          before.accept("INSERT INTO " + t + " VALUES (100, 'n100', 'd2')");
          spark.sql("DELETE FROM " + t + " WHERE id = 4 AND day = 'd1'");
          m.deleteIf(id -> id == 4);
          m.put(100, "n100", "d2");
          check(m, t, "parquet", "race");

          // An append to the partition being rewritten lands; the DELETE fails and changes nothing.
          before.accept("INSERT INTO " + t + " VALUES (101, 'n101', 'd1')");
          assertThatThrownBy(() -> spark.sql("DELETE FROM " + t + " WHERE id = 7 AND day = 'd1'"))
              .hasMessageContaining("Concurrent write")
              .hasMessageContaining("nothing was committed");
          m.put(101, "n101", "d1");
          check(m, t, "parquet", "race");

          // Two statements rewriting the same file: the second to commit fails.
          before.accept("UPDATE " + t + " SET name = 'first' WHERE id = 10 AND day = 'd1'");
          assertThatThrownBy(
                  () ->
                      spark.sql(
                          "UPDATE " + t + " SET name = 'second' WHERE id = 13 AND day = 'd1'"))
              .hasMessageContaining("Concurrent write");
          m.rows.get(10L)[0] = "first";
          check(m, t, "parquet", "race");
          assertThat(stagingFiles("race")).isEmpty();
        });
  }

  @ParameterizedTest(name = "{0}, partitioned={1}")
  @CsvSource({"parquet,true", "csv,false"})
  void overwriteByAConditionOnAnyColumnReplacesExactlyTheMatchingRows(
      String format, boolean partitioned) throws Exception {
    String table = "ow_" + format + (partitioned ? "_p" : "");
    String t = catalog + ".db." + table;
    Model m = create(t, format, partitioned);
    spark
        .range(100, 104)
        .selectExpr("id", "concat('new', id) AS name", "concat('d', id % 3) AS day")
        .writeTo(t)
        .overwrite(
            org.apache
                .spark
                .sql
                .functions
                .col("id")
                .gt(20)
                .or(org.apache.spark.sql.functions.col("name").equalTo("n4")));
    // name = 'n4' is NULL for NULL names: those rows stay.
    m.deleteIf(id -> id > 20 || id == 4);
    for (long i = 100; i < 104; i++) {
      m.put(i, "new" + i, day(i));
    }
    check(m, t, format, table);
    LogEntry e = lastEntry(table);
    assertThat(e.operation()).startsWith("overwrite where");

    // SQL: INSERT INTO ... REPLACE WHERE, with a date-free literal of every kind used here.
    String source = Names.unique("src");
    spark.sql("SELECT 200L AS id, 'r' AS name, 'd2' AS day").createOrReplaceTempView(source);
    spark.sql(
        "INSERT INTO "
            + t
            + " REPLACE WHERE name IN ('n1', 'n2') OR id <=> 9 SELECT * FROM "
            + source);
    m.deleteIf(id -> id == 1 || id == 2 || id == 9);
    m.put(200, "r", "d2");
    check(m, t, format, table);

    // A condition no file can match only adds the rows.
    long files = log(table).snapshot().files().size();
    spark
        .sql("SELECT 300L AS id, 's' AS name, 'd0' AS day")
        .writeTo(t)
        .overwrite(org.apache.spark.sql.functions.col("id").gt(10_000));
    m.put(300, "s", "d0");
    check(m, t, format, table);
    if (format.equals("parquet")) { // CSV files keep no statistics: it rewrote them
      assertThat(log(table).snapshot().files()).hasSize((int) files + 1);
    }
    assertThat(stagingFiles(table)).isEmpty();
  }

  @Test
  void anOverwriteByConditionConflictsWithACommitOfFilesThatMayMatch() throws Exception {
    String t = catalog + ".db.owrace";
    Model m = create(t, "parquet", false);
    race(
        () -> {
          beforeNextCommit("INSERT INTO " + t + " VALUES (50, 'x', 'd2')");
          assertThatThrownBy(
                  () ->
                      spark
                          .sql("SELECT 60L AS id, 'y' AS name, 'd0' AS day")
                          .writeTo(t)
                          .overwrite(org.apache.spark.sql.functions.col("id").gt(25)))
              .hasMessageContaining("Concurrent write");
          m.put(50, "x", "d2");
          check(m, t, "parquet", "owrace");
          assertThat(stagingFiles("owrace")).isEmpty();
        });
  }

  @Test
  void onlyTheFilesHoldingAffectedRowsAreRewrittenWhenStatisticsCannotTell() throws Exception {
    String t = catalog + ".db.runtime";
    Model m = create(t, "parquet", false); // three files: ids 0-9, 10-19, 20-29
    assertThat(rows("SELECT count(DISTINCT _file), count(*), 0 FROM " + t))
        .containsExactly("3,30,0");

    // Statistics: 'n25' lies between 'n0' and 'n9' as well as 'n20' and 'n29' (bytes order);
    // only the second file holds it, and only it is rewritten.
    java.util.Map<String, Long> metrics =
        io.tessera.testing.SqlMetrics.ofCommand(
            spark.sql("DELETE FROM " + t + " WHERE name = 'n25'"));
    m.deleteIf(id -> id == 25);
    check(m, t, "parquet", "runtime");
    assertThat(metrics).containsEntry("tesseraFilesRewritten", 1L);
    assertThat(lastEntry("runtime").remove()).hasSize(1);

    // A MERGE on the key alone: only the file with matched rows is rewritten.
    String source = Names.unique("src");
    spark
        .sql(
            "SELECT id, concat('m', id) AS name, 'd9' AS day FROM VALUES (12L), (15L), (100L) AS v(id)")
        .createOrReplaceTempView(source);
    metrics =
        io.tessera.testing.SqlMetrics.ofCommand(
            spark.sql(
                "MERGE INTO "
                    + t
                    + " t USING "
                    + source
                    + " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"
                    + " WHEN NOT MATCHED THEN INSERT *"));
    m.rows.get(12L)[0] = "m12";
    m.rows.get(15L)[0] = "m15";
    m.put(100, "m100", "d9");
    check(m, t, "parquet", "runtime");
    assertThat(metrics).containsEntry("tesseraFilesRewritten", 1L);
    LogEntry e = lastEntry("runtime");
    assertThat(e.remove()).hasSize(1);
    assertThat(e.add().stream().mapToLong(AddFile::rows).sum()).isEqualTo(11);

    // An UPDATE whose condition matches no row rewrites nothing and commits nothing.
    long v = log("runtime").latestVersion();
    spark.sql("UPDATE " + t + " SET name = 'z' WHERE name = 'n5x'");
    assertThat(log("runtime").latestVersion()).isEqualTo(v);
    check(m, t, "parquet", "runtime");
  }

  @Test
  void twoMergesInsertingTheSameNewKeyCannotBothCommit() throws Exception {
    String t = catalog + ".db.skew";
    Model m = create(t, "parquet", true);
    String merge =
        "MERGE INTO "
            + t
            + " t USING (SELECT 500L AS id, '%s' AS name, 'd5' AS day) s ON t.id = s.id"
            + " WHEN MATCHED THEN UPDATE SET name = s.name WHEN NOT MATCHED THEN INSERT *";
    race(
        () -> {
          beforeNextCommit(String.format(merge, "first"));
          // Neither MERGE read a file holding key 500 (there is none, in a partition with no
          // files): the second to commit must still see the first's insert as a conflict.
          assertThatThrownBy(() -> spark.sql(String.format(merge, "second")))
              .hasMessageContaining("Concurrent write");
          m.put(500, "first", "d5");
          check(m, t, "parquet", "skew");
        });
  }

  @Test
  void valuesAFormatStoresLessPreciselyAreStillFound() throws Exception {
    String micros = "TIMESTAMP '2026-01-01 12:00:00.123456'";
    String millis = "TIMESTAMP '2026-01-01 12:00:00.123'";
    // JSON keeps milliseconds: its files keep no statistics that could rule the row out.
    String json = catalog + ".db.tsjson";
    spark.sql("CREATE TABLE " + json + " (id BIGINT, ts TIMESTAMP) USING json");
    spark.sql("INSERT INTO " + json + " VALUES (1, " + micros + "), (2, " + micros + ")");
    assertThat(rows("SELECT id, ts = " + millis + ", 0 FROM " + json + " ORDER BY id"))
        .containsExactly("1,true,0", "2,true,0");
    spark.sql("DELETE FROM " + json + " WHERE ts = " + millis + " AND id = 1");
    assertThat(rows("SELECT count(*), 0, 0 FROM " + json)).containsExactly("1,0,0");
    // Parquet told to keep milliseconds: the statistics' bounds are whole milliseconds.
    String parquet = catalog + ".db.tsmillis";
    spark.sql("CREATE TABLE " + parquet + " (id BIGINT, ts TIMESTAMP) USING parquet");
    spark.conf().set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MILLIS");
    try {
      spark.sql("INSERT INTO " + parquet + " VALUES (1, " + micros + ")");
    } finally {
      spark.conf().unset("spark.sql.parquet.outputTimestampType");
    }
    assertThat(rows("SELECT id, 0, 0 FROM " + parquet + " WHERE ts = " + millis))
        .containsExactly("1,0,0");
    spark.sql("UPDATE " + parquet + " SET id = 7 WHERE ts = " + millis);
    assertThat(rows("SELECT id, 0, 0 FROM " + parquet)).containsExactly("7,0,0");
  }

  /**
   * Rows the scans of {@code table} read when {@code sql} ran (after run-time filters); its result
   * rows go to {@code result}.
   */
  static long rowsScanned(String sql, String table, List<String> result) {
    org.apache.spark.sql.Dataset<Row> df = spark.sql(sql);
    for (Row r : df.collectAsList()) {
      result.add(r.get(0) + "," + r.get(1) + "," + r.get(2));
    }
    java.util.Set<org.apache.spark.sql.execution.SparkPlan> scans =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    scanRows(df.queryExecution().executedPlan(), scans);
    return scans.stream()
        .filter(b -> b.toString().contains(" " + table + "["))
        .mapToLong(b -> b.metrics().get("numOutputRows").get().value())
        .sum();
  }

  private static void scanRows(
      org.apache.spark.sql.execution.SparkPlan p,
      java.util.Set<org.apache.spark.sql.execution.SparkPlan> n) {
    if (p instanceof org.apache.spark.sql.execution.datasources.v2.BatchScanExec b) {
      n.add(b);
    }
    List<org.apache.spark.sql.execution.SparkPlan> next = new ArrayList<>();
    if (p instanceof org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec a) {
      next.add(a.executedPlan()); // the final plan only (the initial one shares its metrics)
    } else if (p instanceof org.apache.spark.sql.execution.adaptive.QueryStageExec q) {
      next.add(q.plan());
    } else {
      next.addAll(scala.jdk.javaapi.CollectionConverters.asJava(p.children()));
    }
    next.forEach(c -> scanRows(c, n));
  }

  @Test
  void aJoinOnAPartitionColumnReadsOnlyThePartitionsTheOtherSideHolds() throws Exception {
    String t = catalog + ".db.dpp";
    Model m = create(t, "parquet", true);
    String dim = catalog + ".db.dim";
    spark
        .sql("SELECT * FROM VALUES ('d1', 'yes'), ('d2', 'no') AS v(day, wanted)")
        .writeTo(dim)
        .using("parquet")
        .create();
    String sql =
        "SELECT t.id, t.name, t.day FROM "
            + t
            + " t JOIN "
            + dim
            + " s ON t.day = s.day WHERE s.wanted = 'yes' ORDER BY t.id";
    List<String> want = new ArrayList<>();
    m.rows.forEach(
        (id, r) -> {
          if (r[1].equals("d1")) {
            want.add(id + "," + r[0] + "," + r[1]);
          }
        });
    List<String> result = new ArrayList<>();
    long scanned = rowsScanned(sql, t, result);
    assertThat(result).isEqualTo(want);
    List<String> unpruned = new ArrayList<>();
    spark.conf().set("spark.sql.optimizer.dynamicPartitionPruning.enabled", "false");
    long all;
    try {
      all = rowsScanned(sql, t, unpruned);
    } finally {
      spark.conf().unset("spark.sql.optimizer.dynamicPartitionPruning.enabled");
    }
    assertThat(unpruned).isEqualTo(want);
    // The rows of day d1 only: a third of the table (Spark's scan metric counts columnar rows
    // twice in both runs, so the two are compared).
    assertThat(scanned * 3).isEqualTo(all);
  }

  @Test
  void runtimePartitionFiltersUseTheValuesOfThePartitionColumnsRead() throws Exception {
    String t = catalog + ".db.twoparts";
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, region STRING, day STRING) USING parquet PARTITIONED BY (region, day)");
    spark
        .range(0, 40, 1, 2)
        .selectExpr("id", "concat('r', id % 2) AS region", "concat('d', id % 4) AS day")
        .writeTo(t)
        .append();
    String dim = catalog + ".db.days";
    spark
        .sql("SELECT * FROM VALUES ('d1', 'yes'), ('d2', 'no') AS v(day, wanted)")
        .writeTo(dim)
        .using("parquet")
        .create();
    // Only `day` of the two partition columns is read: its values must not be taken for region's.
    String sql =
        "SELECT count(*), min(t.id), max(t.id) FROM "
            + t
            + " t JOIN "
            + dim
            + " s ON t.day = s.day WHERE s.wanted = 'yes'";
    assertThat(rows(sql)).containsExactly("10,1,37");
    assertThat(
            rows(
                "SELECT count(*), 0, 0 FROM "
                    + t
                    + " WHERE day = (SELECT max(day) FROM "
                    + t
                    + ")"))
        .containsExactly("10,0,0");
  }

  @Test
  void aDataColumnNamedFileKeepsItsValues() throws Exception {
    String t = catalog + ".db.withfile";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, _file STRING) USING parquet");
    spark.sql("INSERT INTO " + t + " VALUES (1, 'a.csv'), (2, 'b.csv'), (3, 'c.csv')");
    assertThat(rows("SELECT id, _file, 0 FROM " + t + " ORDER BY id"))
        .containsExactly("1,a.csv,0", "2,b.csv,0", "3,c.csv,0");
    spark.sql("DELETE FROM " + t + " WHERE _file = 'b.csv'");
    spark.sql("UPDATE " + t + " SET _file = 'z.csv' WHERE id = 3");
    assertThat(rows("SELECT id, _file, 0 FROM " + t + " ORDER BY id"))
        .containsExactly("1,a.csv,0", "3,z.csv,0");
  }

  @Test
  void anOverwriteConditionComparesValuesExactlyWhateverTheParserSettings() throws Exception {
    String t = catalog + ".db.escapes";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING) USING parquet");
    spark
        .sql(
            "SELECT * FROM VALUES (1L, 'a\\\\b', 'x'), (2L, 'it''s', 'x'), (3L, 'plain', 'x')"
                + " AS v(id, name, day)")
        .writeTo(t)
        .append();
    assertThat(rows("SELECT id, name, day FROM " + t + " ORDER BY id"))
        .containsExactly("1,a\\b,x", "2,it's,x", "3,plain,x");
    spark.conf().set("spark.sql.parser.escapedStringLiterals", "true");
    spark.conf().set("spark.sql.parser.quotedRegexColumnNames", "true");
    try {
      spark
          .sql("SELECT 9L AS id, 'new' AS name, 'x' AS day")
          .writeTo(t)
          .overwrite(
              org.apache
                  .spark
                  .sql
                  .functions
                  .col("name")
                  .notEqual("a\\b")
                  .and(org.apache.spark.sql.functions.col("name").notEqual("it's")));
    } finally {
      spark.conf().unset("spark.sql.parser.escapedStringLiterals");
      spark.conf().unset("spark.sql.parser.quotedRegexColumnNames");
    }
    assertThat(rows("SELECT id, name, day FROM " + t + " ORDER BY id"))
        .containsExactly("1,a\\b,x", "2,it's,x", "9,new,x");
  }
}
