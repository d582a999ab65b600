package io.tessera.it.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tessera.file.log.TableLog;
import io.tessera.testing.DatabaseKind;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import io.tessera.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fault matrix: every fault Spark users meet, against every sink, each cell asserting exact
 * counts (or, for at-least-once sinks, that nothing is lost and how many rows came twice), that
 * nothing stays staged, and that a failed job leaves the target as it was. The table is printed at
 * the end of the run (and written to {@code target/fault-matrix.md}); the README keeps a copy.
 */
class FaultMatrixIT {
  enum Sink {
    JDBC_ATOMIC_H2("JDBC atomic, H2", true),
    JDBC_ATOMIC_POSTGRESQL("JDBC atomic, PostgreSQL", true),
    JDBC_ATOMIC_MARIADB("JDBC atomic, MariaDB", true),
    JDBC_DIRECT_POSTGRESQL("JDBC direct, PostgreSQL", false),
    JDBC_TWO_PHASE_POSTGRESQL("JDBC two-phase, PostgreSQL", true),
    JDBC_TWO_PHASE_MARIADB("JDBC two-phase, MariaDB", true),
    JDBC_UPSERT_H2("JDBC upsert, H2", true),
    JDBC_UPSERT_POSTGRESQL("JDBC upsert, PostgreSQL", true),
    JDBC_UPSERT_MARIADB("JDBC upsert, MariaDB", true),
    JDBC_MERGE_POSTGRESQL("JDBC MERGE INTO (delta by primary key), PostgreSQL", true),
    FILE("file table (Parquet)", true),
    FILE_MERGE("file table, MERGE INTO (copy-on-write)", true),
    KAFKA("Kafka (at-least-once)", false),
    KAFKA_EXACTLY_ONCE("Kafka (exactly-once)", true);

    final String label;
    final boolean exactlyOnce;

    Sink(String label, boolean exactlyOnce) {
      this.label = label;
      this.exactlyOnce = exactlyOnce;
    }

    boolean jdbc() {
      return name().startsWith("JDBC");
    }

    boolean twoPhase() {
      return name().startsWith("JDBC_TWO_PHASE");
    }
  }

  enum Fault {
    TASK_FAILS_FIRST_ATTEMPT("task fails on its first attempt"),
    SPECULATIVE_DUPLICATE("speculative duplicate attempt"),
    DRIVER_COMMIT_FAILS("driver commit fails"),
    STREAM_KILLED_AND_RESTARTED("streaming query killed, restarted");

    final String label;

    Fault(String label) {
      this.label = label;
    }
  }

  private static final long ROWS = 20_000;
  private static final int PARTITIONS = 4;
  private static final Map<Sink, Map<Fault, String>> MATRIX = new EnumMap<>(Sink.class);
  private static final Map<DatabaseKind, TestDatabase> DATABASES =
      new EnumMap<>(DatabaseKind.class);
  private static final java.util.concurrent.atomic.AtomicLong SPECULATIVE_TASKS =
      new java.util.concurrent.atomic.AtomicLong();
  private static SparkSession spark;
  private static Path warehouse;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    assertThat(spark.sparkContext().master())
        .as("run by the two-hosts execution (mvn verify)")
        .startsWith("spark://");
    warehouse = TestPaths.newFolder("fault-matrix-warehouse");
    spark.conf().set("spark.sql.catalog.fm_files", "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog.fm_files.warehouse", warehouse.toString());
    spark.sql("CREATE NAMESPACE IF NOT EXISTS fm_files.m");
    // fail_first(id, victim): the first attempt of the task holding `victim` fails there.
    spark
        .udf()
        .register(
            "fail_first",
            (UDF2<Long, Long, Long>)
                (id, victim) -> {
                  if (id.equals(victim) && TaskContext.get().attemptNumber() == 0) {
                    throw new IllegalStateException("injected: first attempt fails at id " + id);
                  }
                  return id;
                },
            DataTypes.LongType);
    // fail_while(id, victim, flag): every attempt fails at `victim` while the flag file exists.
    io.tessera.testing.FaultInjection.register(spark);
    for (Sink s : Sink.values()) {
      MATRIX.put(s, new EnumMap<>(Fault.class));
    }
    // slow_first(id, victim): the first attempt sleeps at `victim` until it is killed.
    spark
        .udf()
        .register(
            "slow_first",
            (UDF2<Long, Long, Long>)
                (id, victim) -> {
                  if (id.equals(victim) && TaskContext.get().attemptNumber() == 0) {
                    Thread.sleep(120_000);
                  }
                  return id;
                },
            DataTypes.LongType);
    spark
        .sparkContext()
        .addSparkListener(
            new SparkListener() {
              @Override
              public void onTaskStart(SparkListenerTaskStart start) {
                if (start.taskInfo().speculative()) {
                  SPECULATIVE_TASKS.incrementAndGet();
                }
              }
            });
    // Cells that do not apply, with the reason printed in the table.
    MATRIX
        .get(Sink.JDBC_DIRECT_POSTGRESQL)
        .put(
            Fault.STREAM_KILLED_AND_RESTARTED,
            "n/a: refused for streaming (only the atomic commit records epochs)");
    for (Sink s :
        List.of(Sink.JDBC_UPSERT_H2, Sink.JDBC_UPSERT_POSTGRESQL, Sink.JDBC_UPSERT_MARIADB)) {
      MATRIX
          .get(s)
          .put(Fault.DRIVER_COMMIT_FAILS, "n/a: the publish of the atomic rows, with an upsert");
    }
    MATRIX
        .get(Sink.JDBC_DIRECT_POSTGRESQL)
        .put(Fault.DRIVER_COMMIT_FAILS, "n/a: tasks commit themselves, the driver commits nothing");
    for (Sink s : List.of(Sink.JDBC_TWO_PHASE_POSTGRESQL, Sink.JDBC_TWO_PHASE_MARIADB)) {
      MATRIX
          .get(s)
          .put(
              Fault.STREAM_KILLED_AND_RESTARTED,
              "n/a: refused for streaming (each epoch commits atomically)");
    }
    MATRIX
        .get(Sink.KAFKA)
        .put(Fault.DRIVER_COMMIT_FAILS, "n/a: tasks send the records, the driver commits nothing");
  }

  @AfterAll
  static void printMatrix() throws Exception {
    StringBuilder md = new StringBuilder("| sink |");
    for (Fault f : Fault.values()) {
      md.append(' ').append(f.label).append(" |");
    }
    md.append("\n|---|").append("---|".repeat(Fault.values().length)).append('\n');
    for (Sink s : Sink.values()) {
      md.append("| ").append(s.label).append(" |");
      for (Fault f : Fault.values()) {
        md.append(' ').append(MATRIX.get(s).getOrDefault(f, "not run")).append(" |");
      }
      md.append('\n');
    }
    md.append(
        "\nRun on "
            + spark.sparkContext().master()
            + " (two workers on 127.0.0.1 and 127.0.0.2, one executor JVM each): Spark starts a"
            + " speculative copy only on another host than the running attempt's.\n");
    System.out.println("\nFAULT MATRIX (" + ROWS + " rows per batch write)\n" + md);
    Files.writeString(TestPaths.root().getParent().resolve("fault-matrix.md"), md.toString());
    for (TestDatabase db : DATABASES.values()) {
      db.close();
    }
  }

  // ---------------------------------------------------------------- task fails on first attempt

  @ParameterizedTest
  @EnumSource(Sink.class)
  void taskFailsOnItsFirstAttempt(Sink sink) throws Exception {
    Target t = Target.of(sink, "first");
    long victim = ROWS / PARTITIONS - 1; // the last row of partition 0: the attempt wrote it all
    t.writeWithFault(rows(0, ROWS), "fail_first(id, " + victim + "L)");
    Counts c = t.counts();
    assertThat(c.distinct).as("distinct ids: nothing lost").isEqualTo(ROWS);
    assertThat(c.min).isZero();
    assertThat(c.max).isEqualTo(ROWS - 1);
    assertThat(t.staged()).as("left staged").isEmpty();
    if (sink.exactlyOnce || sink == Sink.JDBC_DIRECT_POSTGRESQL) {
      // Direct: the failed attempt's own transaction is rolled back, so it too ends exact.
      assertThat(c.count).as("rows").isEqualTo(ROWS);
      record(sink, Fault.TASK_FAILS_FIRST_ATTEMPT, "exact: " + fmt(ROWS) + " rows, 0 duplicates");
    } else {
      long dup = c.count - ROWS;
      assertThat(dup).as("duplicates: at most the failed attempt's rows").isBetween(0L, victim + 1);
      record(
          sink,
          Fault.TASK_FAILS_FIRST_ATTEMPT,
          "no loss: " + fmt(ROWS) + " ids, " + fmt(dup) + " duplicates (of the failed attempt)");
    }
  }

  // ---------------------------------------------------------------- speculative duplicate

  /**
   * Two partitions; the first attempt of the second one sleeps at its last row (having sent all the
   * others) until Spark kills it. Speculation starts a copy on the other host's executor, which
   * finishes and commits; the sleeping original is killed and aborted.
   */
  @ParameterizedTest
  @EnumSource(Sink.class)
  void speculativeDuplicateAttempt(Sink sink) throws Exception {
    Target t = Target.of(sink, "spec");
    long speculativeBefore = SPECULATIVE_TASKS.get();
    long victim = ROWS - 1;
    t.writeWithFault(
        spark.range(0, ROWS, 1, 2).selectExpr("id", "concat('name-', id) AS name"),
        "slow_first(id, " + victim + "L)");
    // The listener bus delivers the task-start event asynchronously.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(SPECULATIVE_TASKS.get())
                    .as("speculative attempts started")
                    .isGreaterThan(speculativeBefore));
    Counts c = t.counts();
    assertThat(c.distinct).as("distinct ids: nothing lost").isEqualTo(ROWS);
    assertThat(c.max).isEqualTo(ROWS - 1);
    // The killed original's abort may still be running when the job returns.
    await().atMost(Duration.ofSeconds(30)).until(() -> t.staged().isEmpty());
    if (sink.exactlyOnce || sink == Sink.JDBC_DIRECT_POSTGRESQL) {
      // Direct: only the attempt Spark's commit coordinator lets commit commits its transaction.
      assertThat(c.count).as("rows").isEqualTo(ROWS);
      record(sink, Fault.SPECULATIVE_DUPLICATE, "exact: " + fmt(ROWS) + " rows, 0 duplicates");
    } else {
      long dup = c.count - ROWS;
      assertThat(dup).as("duplicates: at most the original's rows").isBetween(0L, ROWS / 2);
      record(
          sink,
          Fault.SPECULATIVE_DUPLICATE,
          "no loss: " + fmt(ROWS) + " ids, " + fmt(dup) + " duplicates (of the killed original)");
    }
  }

  // ---------------------------------------------------------------- driver commit fails

  @ParameterizedTest
  @EnumSource(
      value = Sink.class,
      names = {
        "JDBC_ATOMIC_H2",
        "JDBC_ATOMIC_POSTGRESQL",
        "JDBC_ATOMIC_MARIADB",
        "FILE",
        "FILE_MERGE",
        "JDBC_MERGE_POSTGRESQL",
        "KAFKA_EXACTLY_ONCE",
        "JDBC_TWO_PHASE_POSTGRESQL",
        "JDBC_TWO_PHASE_MARIADB"
      })
  void driverCommitFails(Sink sink) throws Exception {
    Target t = Target.of(sink, "commit");
    // Ten rows already there; for JDBC the table has a primary key and holds id 5 already, and
    // the write is an overwrite of the ids from ROWS + 5 on.
    t.prepareForFailingCommit(rows(5, 6).union(rows(ROWS + 1, ROWS + 10)));
    Counts before = t.counts();
    assertThat(before.count).isEqualTo(10);
    String expectedError = t.armCommitFailure();
    assertThatThrownBy(() -> t.writeForFailingCommit(rows(0, ROWS)))
        .as("the job fails in the driver's commit")
        .hasStackTraceContaining(expectedError);
    assertThat(t.counts()).as("the target as it was").isEqualTo(before);
    if (sink == Sink.KAFKA_EXACTLY_ONCE || sink.twoPhase()) {
      // The driver failed after recording its decision: the next write (under the prefix, or of
      // the user into the schema) first commits the recorded transactions, then its own.
      t.write(rows(ROWS + 20, ROWS + 30));
      Counts after = t.counts();
      assertThat(after.count).as("records").isEqualTo(before.count + ROWS + 10);
      // Keys: the 9 of 20,001..20,009, 0..19,999 and the 10 of the last write; key 5 was in the
      // first write and again in the failed one, so it is there twice, as written.
      assertThat(after.distinct).as("distinct keys").isEqualTo(ROWS + 19);
      assertThat(after.max).isEqualTo(ROWS + 29);
      assertThat(t.staged()).as("open or prepared transactions").isEmpty();
      record(
          sink,
          Fault.DRIVER_COMMIT_FAILS,
          "job fails after recording its commit, nothing visible; the next write completes it:"
              + " exact, "
              + fmt(after.count)
              + (sink.twoPhase() ? " rows" : " records"));
      return;
    }
    assertThat(t.staged()).as("left staged").isEmpty();
    record(
        sink,
        Fault.DRIVER_COMMIT_FAILS,
        (sink == Sink.JDBC_MERGE_POSTGRESQL
                ? "MERGE fails in its publish (after its deletes), rolled back"
                : sink.jdbc() ? "overwrite fails in its publish" : "job fails")
            + ", target unchanged ("
            + before.count
            + " rows), nothing staged");
  }

  // ---------------------------------------------------------------- streaming killed, restarted

  @ParameterizedTest
  @EnumSource(
      value = Sink.class,
      names = {"JDBC_DIRECT_POSTGRESQL", "JDBC_TWO_PHASE_POSTGRESQL", "JDBC_TWO_PHASE_MARIADB"},
      mode = EnumSource.Mode.EXCLUDE)
  void streamingQueryKilledAndRestarted(Sink sink) throws Exception {
    Target t = Target.of(sink, "stream");
    Path dir = TestPaths.newFolder("fm-stream");
    Path flag = Files.createFile(dir.resolve("kill"));
    Path checkpoint = dir.resolve("checkpoint");
    long rowsPerBatch = 500;
    long victim = 3 * rowsPerBatch + 200; // in epoch 3
    long lastId = 6 * rowsPerBatch;
    Dataset<Row> source =
        spark
            .readStream()
            .format("rate-micro-batch")
            .option("rowsPerBatch", rowsPerBatch)
            .option("numPartitions", 2)
            .load()
            // Epochs 0..5 carry rows, later ones none: a stop() that interrupts a later epoch
            // interrupts nothing, so the counts below are exact.
            .where("value < " + lastId)
            .selectExpr(
                "fail_while(value, " + victim + "L, '" + flag + "') AS id",
                "concat('name-', value) AS name");

    StreamingQuery first = t.startStream(source, checkpoint);
    assertThatThrownBy(() -> first.awaitTermination(120_000))
        .hasStackTraceContaining("injected: fails while the flag exists, id " + victim);
    Files.delete(flag);
    StreamingQuery second = t.startStream(source, checkpoint);
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> second.lastProgress() != null && second.lastProgress().batchId() >= 7);
    second.stop();

    Counts c = t.counts();
    assertThat(c.min).isZero();
    assertThat(c.max).isEqualTo(lastId - 1);
    assertThat(c.distinct).as("no gap: ids 0..max all there").isEqualTo(lastId);
    if (sink.exactlyOnce) {
      assertThat(c.count).as("exactly once").isEqualTo(c.distinct);
      assertThat(t.staged()).as("left staged").isEmpty();
      record(
          sink,
          Fault.STREAM_KILLED_AND_RESTARTED,
          (sink == Sink.FILE_MERGE || sink == Sink.JDBC_MERGE_POSTGRESQL
                  ? "each row once (a MERGE per micro-batch in foreachBatch; the replayed epoch"
                      + " MERGEs the same rows again): "
                  : "exactly once: ")
              + fmt(c.count)
              + " rows of "
              + c.count / rowsPerBatch
              + " epochs");
    } else {
      long dup = c.count - c.distinct;
      assertThat(dup)
          .as("duplicates: at most the killed epoch's rows")
          .isBetween(0L, 2 * rowsPerBatch);
      record(
          sink,
          Fault.STREAM_KILLED_AND_RESTARTED,
          "no loss: " + fmt(c.distinct) + " ids, " + fmt(dup) + " duplicates (the killed epoch)");
    }
  }

  // ---------------------------------------------------------------- sinks

  private static Dataset<Row> rows(long from, long to) {
    return spark.range(from, to, 1, PARTITIONS).selectExpr("id", "concat('name-', id) AS name");
  }

  private static void record(Sink sink, Fault fault, String result) {
    MATRIX.get(sink).put(fault, result);
  }

  private static String fmt(long n) {
    return String.format("%,d", n);
  }

  record Counts(long count, long distinct, long min, long max) {
    static Counts of(List<Object> row) {
      Function<Object, Long> l = o -> o == null ? -1L : ((Number) o).longValue();
      return new Counts(
          l.apply(row.get(0)), l.apply(row.get(1)), l.apply(row.get(2)), l.apply(row.get(3)));
    }
  }

  /** One sink's table (or topic) for one cell. */
  abstract static class Target {
    abstract void write(Dataset<Row> rows) throws Exception;

    abstract Counts counts() throws Exception;

    /** What is left staged: staging tables, staged files. */
    abstract List<String> staged() throws Exception;

    /**
     * Writes {@code rows} with {@code id} replaced by {@code faultyId} (an expression of {@code id}
     * that fails or stalls in some attempt), evaluated where the sink's writing tasks run.
     */
    void writeWithFault(Dataset<Row> rows, String faultyId) throws Exception {
      write(rows.selectExpr(faultyId + " AS id", "name"));
    }

    void prepareForFailingCommit(Dataset<Row> existing) throws Exception {
      write(existing);
    }

    /** The write whose driver commit fails: by default an append. */
    void writeForFailingCommit(Dataset<Row> rows) throws Exception {
      write(rows);
    }

    /** Makes the next driver commit fail; returns the text its error contains. */
    String armCommitFailure() {
      throw new UnsupportedOperationException();
    }

    StreamingQuery startStream(Dataset<Row> source, Path checkpoint) throws Exception {
      throw new UnsupportedOperationException();
    }

    static Target of(Sink sink, String cell) {
      return switch (sink) {
        case JDBC_ATOMIC_H2 -> new JdbcTarget(DatabaseKind.H2, "atomic", cell);
        case JDBC_ATOMIC_POSTGRESQL -> new JdbcTarget(DatabaseKind.POSTGRESQL, "atomic", cell);
        case JDBC_ATOMIC_MARIADB -> new JdbcTarget(DatabaseKind.MARIADB, "atomic", cell);
        case JDBC_DIRECT_POSTGRESQL -> new JdbcTarget(DatabaseKind.POSTGRESQL, "direct", cell);
        case JDBC_TWO_PHASE_POSTGRESQL ->
            new JdbcTarget(DatabaseKind.POSTGRESQL, "two-phase", cell);
        case JDBC_TWO_PHASE_MARIADB -> new JdbcTarget(DatabaseKind.MARIADB, "two-phase", cell);
        case JDBC_UPSERT_H2 -> new JdbcTarget(DatabaseKind.H2, "upsert", cell);
        case JDBC_UPSERT_POSTGRESQL -> new JdbcTarget(DatabaseKind.POSTGRESQL, "upsert", cell);
        case JDBC_UPSERT_MARIADB -> new JdbcTarget(DatabaseKind.MARIADB, "upsert", cell);
        case JDBC_MERGE_POSTGRESQL -> new JdbcTarget(DatabaseKind.POSTGRESQL, "merge", cell);
        case FILE -> new FileTarget(cell);
        case FILE_MERGE -> new FileMergeTarget(cell);
        case KAFKA -> new KafkaTarget(cell, false);
        case KAFKA_EXACTLY_ONCE -> new KafkaTarget(cell, true);
      };
    }
  }

  static class JdbcTarget extends Target {
    final TestDatabase db;
    final String mode;
    final String name;
    final String table;

    final String cell;

    JdbcTarget(DatabaseKind kind, String mode, String cell) {
      this.cell = cell;
      this.db = DATABASES.computeIfAbsent(kind, TestDatabase::create);
      this.mode = mode;
      this.name = cell + "_" + mode.replace("-", "_");
      String catalog = "fm_" + db.schema();
      spark.conf().set("spark.sql.catalog." + catalog, "io.tessera.jdbc.JdbcCatalog");
      spark.conf().set("spark.sql.catalog." + catalog + ".url", db.url());
      if (kind != DatabaseKind.H2) {
        spark.conf().set("spark.sql.catalog." + catalog + ".user", db.user());
        spark.conf().set("spark.sql.catalog." + catalog + ".password", db.password());
      }
      this.table = catalog + "." + db.schema() + "." + name;
    }

    private void create(boolean primaryKey) throws Exception {
      db.execute(
          "CREATE TABLE "
              + db.qualified(name)
              + " ("
              + db.quote("id")
              + " BIGINT"
              + (primaryKey ? " NOT NULL PRIMARY KEY" : "")
              + ", "
              + db.quote("name")
              + " VARCHAR(100))");
    }

    boolean upsert() {
      return mode.equals("upsert");
    }

    boolean merge() {
      return mode.equals("merge");
    }

    private final String view = Names.unique("fm_jdbc_merge_source");

    /**
     * An upsert cell's table has a primary key and, before the write, every other id of the range
     * with an old name: the write must update those and insert the rest, each exactly once.
     */
    private void createIfMissing() throws Exception {
      if (!db.tables().contains(name)) {
        create(upsert() || merge());
        if (merge() && (cell.equals("first") || cell.equals("spec"))) {
          // Every 1,000th id, with names the MERGE replaces (the other cells count exact ids).
          spark.range(0, ROWS, 1000, 1).selectExpr("id", "'old' AS name").writeTo(table).append();
        }
        if (upsert()) {
          spark
              .range(0, 40_000, 2, PARTITIONS)
              .selectExpr("id", "concat('old-', id) AS name")
              .writeTo(table)
              .append();
        }
      }
    }

    @Override
    void write(Dataset<Row> rows) throws Exception {
      createIfMissing();
      if (merge()) {
        merge(rows, spark, "s.id", "", "");
        assertThat(db.query("SELECT COUNT(*) FROM " + db.qualified(name) + " WHERE name = 'old'"))
            .as("rows the MERGE should have updated")
            .isEqualTo(List.of(List.of(0L)));
      } else if (upsert()) {
        rows.writeTo(table).option("writeMode", "upsert").append();
      } else {
        rows.writeTo(table).option("commit", mode).append();
      }
    }

    /**
     * A MERGE by id: update the matched rows, insert the others; {@code id} (an expression of
     * {@code s.id}) is what both write, {@code on} narrows the match, {@code more} adds clauses.
     */
    private void merge(Dataset<Row> rows, SparkSession session, String id, String on, String more) {
      rows.createOrReplaceTempView(view);
      session.sql(
          "MERGE INTO "
              + table
              + " t USING "
              + view
              + " s ON t.id = s.id"
              + on
              + " WHEN MATCHED THEN UPDATE SET id = "
              + id
              + ", name = s.name WHEN NOT MATCHED THEN INSERT (id, name) VALUES ("
              + id
              + ", s.name)"
              + more);
    }

    /**
     * For a MERGE, the fault goes into its own row expressions (UPDATE SET / INSERT VALUES), which
     * run in the tasks that stage the changes, not into the source, whose stages Spark would simply
     * retry.
     */
    @Override
    void writeWithFault(Dataset<Row> rows, String faultyId) throws Exception {
      if (!merge()) {
        super.writeWithFault(rows, faultyId);
        return;
      }
      createIfMissing();
      // Four writing tasks, not coalesced into one by AQE: speculation needs most of a stage's
      // tasks done before it copies the slow one.
      String partitions = spark.conf().get("spark.sql.shuffle.partitions");
      spark.conf().set("spark.sql.shuffle.partitions", "4");
      spark.conf().set("spark.sql.adaptive.coalescePartitions.enabled", "false");
      try {
        merge(rows, spark, faultyId.replace("(id,", "(s.id,"), "", "");
      } finally {
        spark.conf().set("spark.sql.shuffle.partitions", partitions);
        spark.conf().unset("spark.sql.adaptive.coalescePartitions.enabled");
      }
      assertThat(db.query("SELECT COUNT(*) FROM " + db.qualified(name) + " WHERE name = 'old'"))
          .as("rows the MERGE should have updated")
          .isEqualTo(List.of(List.of(0L)));
    }

    @Override
    StreamingQuery startStream(Dataset<Row> source, Path checkpoint) throws Exception {
      createIfMissing();
      if (merge()) {
        return source
            .writeStream()
            .option("checkpointLocation", checkpoint.toString())
            .trigger(Trigger.ProcessingTime("1 second"))
            .foreachBatch(
                (org.apache.spark.api.java.function.VoidFunction2<Dataset<Row>, Long>)
                    (batch, epoch) -> merge(batch, batch.sparkSession(), "s.id", "", ""))
            .start();
      }
      return source
          .writeStream()
          .option("checkpointLocation", checkpoint.toString())
          .option("writeMode", upsert() ? "upsert" : "append")
          .trigger(Trigger.ProcessingTime("1 second"))
          .toTable(table);
    }

    @Override
    void prepareForFailingCommit(Dataset<Row> existing) throws Exception {
      if (twoPhase()) {
        write(existing); // no primary key: the failed write adds id 5 again
        return;
      }
      create(true);
      existing.writeTo(table).append();
    }

    /**
     * An overwrite: the publish first deletes the existing ids from ROWS + 5 on, then its INSERT
     * fails because the new rows include id 5, which the primary key already holds. The rollback
     * must bring the deleted rows back too.
     */
    @Override
    void writeForFailingCommit(Dataset<Row> rows) throws Exception {
      if (merge()) {
        // Id 5 is kept out of the match, so it is inserted, and the primary key refuses it; by
        // then the publish has deleted the 9 other rows the source lacks: the rollback must
        // restore them.
        merge(
            rows,
            spark,
            "s.id",
            " AND s.id <> 5",
            " WHEN NOT MATCHED BY SOURCE AND t.id <> 5 THEN DELETE");
        return;
      }
      if (twoPhase()) {
        rows.writeTo(table).option("commit", mode).append();
        return;
      }
      rows.writeTo(table)
          .option("commit", mode)
          .overwrite(org.apache.spark.sql.functions.col("id").geq(ROWS + 5));
    }

    boolean twoPhase() {
      return mode.equals("two-phase");
    }

    @Override
    String armCommitFailure() {
      if (twoPhase()) {
        io.tessera.jdbc.JdbcTestHooks.twoPhaseDriverDiesAfterDecision();
        return "injected: the driver dies after recording its decision";
      }
      return merge() ? "inserts a row that the table refuses" : "Publishing the write into";
    }

    @Override
    Counts counts() throws Exception {
      String id = db.quote("id");
      if (upsert()) {
        // Exact contents: the rows the writes touched carry their new name; the old rows they did
        // not touch keep theirs (ids beyond the written range are even and old).
        long wrong =
            ((Number)
                    db.query(
                            "SELECT COUNT(*) FROM "
                                + db.qualified(name)
                                + " WHERE "
                                + db.quote("name")
                                + " <> CONCAT(CASE WHEN "
                                + id
                                + " < (SELECT MAX("
                                + id
                                + ") + 1 FROM "
                                + db.qualified(name)
                                + " WHERE "
                                + db.quote("name")
                                + " LIKE 'name-%') THEN 'name-' ELSE 'old-' END, CAST("
                                + id
                                + (db.kind() == DatabaseKind.MARIADB
                                    ? " AS CHAR))"
                                    : " AS VARCHAR(30)))"))
                        .get(0)
                        .get(0))
                .longValue();
        assertThat(wrong).as("rows whose name is not the one the writes left").isZero();
        return Counts.of(
            db.query(
                    "SELECT COUNT(*), COUNT(DISTINCT "
                        + id
                        + "), MIN("
                        + id
                        + "), MAX("
                        + id
                        + ") FROM "
                        + db.qualified(name)
                        + " WHERE "
                        + db.quote("name")
                        + " LIKE 'name-%'")
                .get(0));
      }
      return Counts.of(
          db.query(
                  "SELECT COUNT(*), COUNT(DISTINCT "
                      + id
                      + "), MIN("
                      + id
                      + "), MAX("
                      + id
                      + ") FROM "
                      + db.qualified(name))
              .get(0));
    }

    /** Staging tables; for two-phase, the write's prepared transactions left behind. */
    @Override
    List<String> staged() throws Exception {
      if (twoPhase()) {
        List<String> left = new ArrayList<>();
        if (db.kind() == DatabaseKind.POSTGRESQL) {
          for (List<Object> r :
              db.query("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'tsr2pc%'")) {
            left.add(String.valueOf(r.get(0)));
          }
        } else {
          for (List<Object> r : db.query("XA RECOVER")) {
            String data = String.valueOf(r.get(3));
            if (data.startsWith("tsr2pc")) {
              left.add(data);
            }
          }
        }
        return left;
      }
      return db.tables().stream().filter(t -> t.startsWith("tessera_stg")).toList();
    }
  }

  static class FileTarget extends Target {
    final String table;
    final Path dir;

    FileTarget(String cell) {
      String name = Names.unique(cell);
      this.table = "fm_files.m." + name;
      spark.sql("CREATE TABLE " + table + " (id BIGINT, name STRING) USING parquet");
      this.dir = warehouse.resolve("m").resolve(name);
    }

    @Override
    void write(Dataset<Row> rows) throws Exception {
      rows.writeTo(table).append();
    }

    @Override
    String armCommitFailure() {
      TableLog.injectFaultForTests(TableLog.CreateFault.FAIL_BEFORE);
      return "injected: create failed before writing";
    }

    @Override
    StreamingQuery startStream(Dataset<Row> source, Path checkpoint) throws Exception {
      return source
          .writeStream()
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime("1 second"))
          .toTable(table);
    }

    @Override
    Counts counts() {
      Row r =
          spark.sql("SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM " + table).first();
      return Counts.of(
          List.of(
              r.get(0), r.get(1), r.isNullAt(2) ? -1L : r.get(2), r.isNullAt(3) ? -1L : r.get(3)));
    }

    @Override
    List<String> staged() throws IOException {
      Path staging = dir.resolve("_tessera").resolve("staging");
      if (!Files.exists(staging)) {
        return List.of();
      }
      try (Stream<Path> s = Files.walk(staging)) {
        return s.filter(Files::isRegularFile)
            .filter(p -> !p.getFileName().toString().startsWith("."))
            .map(p -> staging.relativize(p).toString())
            .toList();
      }
    }
  }

  /**
   * Every write is a MERGE INTO by id (update matched rows, insert the others) into a table that
   * already holds some of the ids with other names, so each is a real copy-on-write rewrite; a
   * stream MERGEs each micro-batch in {@code foreachBatch} (a replayed epoch MERGEs the same rows
   * again, which changes nothing).
   */
  static final class FileMergeTarget extends FileTarget {
    private final String view = Names.unique("fm_merge_source");

    FileMergeTarget(String cell) {
      super(cell);
      if (cell.equals("first") || cell.equals("spec")) {
        // Every 1,000th id, with names the MERGE replaces (the other cells count exact ids).
        spark
            .range(0, ROWS, 1000, 1)
            .selectExpr("id", "'old' AS name")
            .createOrReplaceTempView(view);
        spark.sql("INSERT INTO " + table + " SELECT * FROM " + view);
      }
    }

    @Override
    void write(Dataset<Row> rows) throws Exception {
      merge(rows, spark);
      if (!rows.isStreaming()) {
        long stale =
            spark.sql("SELECT count(*) FROM " + table + " WHERE name = 'old'").first().getLong(0);
        assertThat(stale).as("rows the MERGE should have updated").isZero();
      }
    }

    private void merge(Dataset<Row> rows, SparkSession session) {
      merge(rows, session, "s.id");
    }

    /**
     * The fault goes into the MERGE's own row expressions (UPDATE SET / INSERT VALUES), which run
     * in the tasks that write the files (the table is unpartitioned: no shuffle before the write),
     * not into the source, whose stages Spark would simply retry.
     */
    @Override
    void writeWithFault(Dataset<Row> rows, String faultyId) throws Exception {
      // Four writing tasks, not coalesced into one by AQE: speculation needs most of a stage's
      // tasks done before it copies the slow one.
      String partitions = spark.conf().get("spark.sql.shuffle.partitions");
      spark.conf().set("spark.sql.shuffle.partitions", "4");
      spark.conf().set("spark.sql.adaptive.coalescePartitions.enabled", "false");
      try {
        merge(rows, spark, faultyId.replace("(id,", "(s.id,"));
      } finally {
        spark.conf().set("spark.sql.shuffle.partitions", partitions);
        spark.conf().unset("spark.sql.adaptive.coalescePartitions.enabled");
      }
      long stale =
          spark.sql("SELECT count(*) FROM " + table + " WHERE name = 'old'").first().getLong(0);
      assertThat(stale).as("rows the MERGE should have updated").isZero();
    }

    private void merge(Dataset<Row> rows, SparkSession session, String id) {
      rows.createOrReplaceTempView(view);
      session.sql(
          "MERGE INTO "
              + table
              + " t USING "
              + view
              + " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET id = "
              + id
              + ", name = s.name WHEN NOT MATCHED THEN INSERT (id, name) VALUES ("
              + id
              + ", s.name)");
    }

    @Override
    StreamingQuery startStream(Dataset<Row> source, Path checkpoint) throws Exception {
      return source
          .writeStream()
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime("1 second"))
          .foreachBatch(
              (org.apache.spark.api.java.function.VoidFunction2<Dataset<Row>, Long>)
                  (batch, id) -> merge(batch, batch.sparkSession()))
          .start();
    }
  }

  static final class KafkaTarget extends Target {
    final KafkaBroker broker = KafkaBroker.shared();
    final String topic;
    final boolean exactlyOnce;
    final String prefix;

    KafkaTarget(String cell, boolean exactlyOnce) {
      this.topic = broker.newTopic("fm_" + cell, PARTITIONS);
      this.exactlyOnce = exactlyOnce;
      this.prefix = Names.unique("fm-" + cell);
    }

    private java.util.Map<String, String> options() {
      java.util.Map<String, String> o = new java.util.HashMap<>();
      o.put("kafka.bootstrap.servers", broker.bootstrapServers());
      o.put("topic", topic);
      if (exactlyOnce) {
        o.put("delivery", "exactly-once");
        o.put("transactionalIdPrefix", prefix);
      }
      return o;
    }

    @Override
    void write(Dataset<Row> rows) {
      rows.selectExpr("CAST(id AS STRING) AS key", "name AS value")
          .write()
          .format("tessera-kafka")
          .options(options())
          .mode("append")
          .save();
    }

    @Override
    String armCommitFailure() {
      io.tessera.kafka.KafkaTestHooks.failDriverAfterCommits(0);
      return "injected: the driver stops after committing 0 transactions";
    }

    @Override
    StreamingQuery startStream(Dataset<Row> source, Path checkpoint) throws Exception {
      return source
          .selectExpr("CAST(id AS STRING) AS key", "name AS value")
          .writeStream()
          .format("tessera-kafka")
          .options(options())
          .option("checkpointLocation", checkpoint.toString())
          .trigger(Trigger.ProcessingTime("1 second"))
          .start();
    }

    @Override
    Counts counts() {
      Map<Long, Long> perKey =
          broker.countsPerNumericKey(topic, exactlyOnce ? "read_committed" : "read_uncommitted");
      long count = perKey.values().stream().mapToLong(Long::longValue).sum();
      List<Long> keys = new ArrayList<>(perKey.keySet());
      return new Counts(
          count,
          keys.size(),
          keys.isEmpty() ? -1 : keys.get(0),
          keys.isEmpty() ? -1 : keys.get(keys.size() - 1));
    }

    /** At-least-once stages nothing; exactly-once: the transactions still open under its prefix. */
    @Override
    List<String> staged() throws Exception {
      if (!exactlyOnce) {
        return List.of();
      }
      return broker
          .admin()
          .listTransactions(
              new org.apache.kafka.clients.admin.ListTransactionsOptions()
                  .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING)))
          .all()
          .get()
          .stream()
          .map(org.apache.kafka.clients.admin.TransactionListing::transactionalId)
          .filter(id -> id.startsWith(prefix + "."))
          .toList();
    }
  }
}
