package io.tessera.file;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Failures, races, streaming replays and hostile input. */
class FileFaultsIT {
  static SparkSession spark;
  static volatile CountDownLatch gate = new CountDownLatch(0);
  static volatile CountDownLatch started = new CountDownLatch(0);
  String catalog;
  Path warehouse;
  FileTableIT helper = new FileTableIT();

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    FaultInjection.register(spark);
    spark
        .udf()
        .register(
            "wait_gate",
            (UDF1<Long, Long>)
                id -> {
                  started.countDown();
                  gate.await(60, TimeUnit.SECONDS);
                  return id;
                },
            DataTypes.LongType);
  }

  @org.junit.jupiter.api.AfterEach
  void noHookLeftBehind() {
    boolean pending = io.tessera.file.log.TableLog.testHookPending();
    io.tessera.file.log.TableLog.injectFaultForTests(null);
    io.tessera.file.log.TableLog.runBeforeNextCreateForTests(null);
    FileTable.runAfterNextScanPlannedForTests(null);
    assertThat(pending).as("an injected fault or hook was never used").isFalse();
  }

  @BeforeEach
  void registerCatalog() {
    helper.registerCatalog();
    catalog = helper.catalog;
    warehouse = helper.warehouse;
  }

  String table(String name) throws Exception {
    String t = catalog + ".db." + name;
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING) PARTITIONED BY (day)");
    return t;
  }

  List<String> rows(String t) {
    return FileTableIT.strings(spark.table(t));
  }

  @Test
  void taskFailingOnFirstAttemptLeavesNoDuplicates() throws Exception {
    String t = table("retry");
    FileTableIT.events(0, 300)
        .selectExpr("fail_first_attempt(id, 77L) as id", "name", "day")
        .writeTo(t)
        .append();

    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 300)));
    assertThat(helper.dataFiles("retry")).hasSize(snapshotFiles("retry"));
    assertThat(helper.stagingFiles("retry")).isEmpty();
  }

  @Test
  void alwaysFailingTaskLeavesTableUnchangedInEveryMode() throws Exception {
    String t = table("fail");
    FileTableIT.events(0, 30).writeTo(t).append();
    List<String> before = rows(t);
    List<String> filesBefore = helper.dataFiles("fail");
    var failing =
        FileTableIT.events(100, 400).selectExpr("fail_always(id, 250L) as id", "name", "day");

    assertThatThrownBy(() -> failing.writeTo(t).append())
        .hasStackTraceContaining("injected failure, id 250");
    assertThatThrownBy(() -> failing.writeTo(t).overwrite(lit(true)))
        .hasStackTraceContaining("injected failure");
    assertThatThrownBy(() -> failing.writeTo(t).overwritePartitions())
        .hasStackTraceContaining("injected failure");

    assertThat(rows(t)).isEqualTo(before);
    assertThat(helper.plainRead("parquet", "fail")).isEqualTo(before);
    assertThat(helper.dataFiles("fail")).isEqualTo(filesBefore);
    assertThat(helper.stagingFiles("fail")).isEmpty();
  }

  @Test
  void strayFilesOfACrashedCommitAreInvisibleAndCleanedUp() throws Exception {
    String t = table("crash");
    FileTableIT.events(0, 9).writeTo(t).append();
    List<String> before = rows(t);
    // The on-disk state a driver leaves when it dies after moving its files into the partition
    // folders but before creating the log entry: data files no entry references, plus staging.
    Path root = helper.tableDir("crash");
    String committed = helper.dataFiles("crash").get(0);
    Path stray = root.resolve(committed).resolveSibling("part-99999-crashed.parquet");
    Files.copy(root.resolve(committed), stray);
    Path staged = Files.createDirectories(root.resolve("_tessera/staging/deadbeef/day=d0"));
    Files.copy(root.resolve(committed), staged.resolve("part-0.parquet"));

    assertThat(rows(t)).isEqualTo(before);
    List<String> deleted =
        spark
            .sql(
                "CALL " + catalog + ".system.cleanup(table => 'db.crash', older_than_minutes => 0)")
            .as(Encoders.STRING())
            .collectAsList();

    assertThat(deleted)
        .contains(
            root.relativize(stray).toString(), "_tessera/staging/deadbeef/day=d0/part-0.parquet");
    assertThat(Files.exists(stray)).isFalse();
    assertThat(rows(t)).isEqualTo(before);
    assertThat(helper.plainRead("parquet", "crash")).isEqualTo(before);
    assertThat(helper.dataFiles("crash")).hasSize(snapshotFiles("crash"));
  }

  long logEntries(String name) throws Exception {
    try (var files = Files.list(helper.tableDir(name).resolve("_tessera/log"))) {
      return files.filter(f -> f.getFileName().toString().matches("\\d{20}\\.json")).count();
    }
  }

  @Test
  void aLogCreateWhoseReplyIsLostCountsAsCommittedOnce() throws Exception {
    String t = table("lostreply");
    FileTableIT.events(0, 30).writeTo(t).append();
    long entries = logEntries("lostreply");

    io.tessera.file.log.TableLog.injectFaultForTests(
        io.tessera.file.log.TableLog.CreateFault.FAIL_AFTER);
    FileTableIT.events(30, 60).writeTo(t).append();
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 60)));
    assertThat(logEntries("lostreply")).isEqualTo(entries + 1);

    // A create that succeeded but said "already exists" (a retried create of our own entry) is
    // ours: no second entry at the next version.
    io.tessera.file.log.TableLog.injectFaultForTests(
        io.tessera.file.log.TableLog.CreateFault.EXISTS_AFTER);
    FileTableIT.events(60, 90).writeTo(t).append();
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 90)));
    assertThat(logEntries("lostreply")).isEqualTo(entries + 2);
    assertThat(helper.dataFiles("lostreply")).hasSize(snapshotFiles("lostreply"));
  }

  @Test
  void aFailedLogCreateDeletesItsStagedFilesAndLeavesTheTableFolderUnchanged() throws Exception {
    String t = table("failedcreate");
    FileTableIT.events(0, 30).writeTo(t).append();
    List<String> before = rows(t);
    List<String> committed = helper.dataFiles("failedcreate");

    io.tessera.file.log.TableLog.injectFaultForTests(
        io.tessera.file.log.TableLog.CreateFault.FAIL_BEFORE);
    assertThatThrownBy(() -> FileTableIT.events(30, 60).writeTo(t).append())
        .hasStackTraceContaining("injected: create failed before writing");
    // The entry is verifiably absent (read back after the failure): nothing was committed, the
    // writer deleted its staged files, and nothing of the write ever reached the table folder.
    assertThat(rows(t)).isEqualTo(before);
    assertThat(helper.plainRead("parquet", "failedcreate")).isEqualTo(before);
    assertThat(helper.dataFiles("failedcreate")).isEqualTo(committed);
    assertThat(helper.stagingFiles("failedcreate")).isEmpty();
  }

  @Test
  void aLogCreateWithAnUnknownOutcomeKeepsItsStagedFilesForCleanup() throws Exception {
    String t = table("unknowncreate");
    FileTableIT.events(0, 30).writeTo(t).append();
    List<String> before = rows(t);
    int committedFiles = helper.dataFiles("unknowncreate").size();

    io.tessera.file.log.TableLog.injectFaultForTests(
        io.tessera.file.log.TableLog.CreateFault.FAIL_UNREADABLE);
    assertThatThrownBy(() -> FileTableIT.events(30, 60).writeTo(t).append())
        .hasStackTraceContaining("injected: create failed before writing");
    assertThat(rows(t)).isEqualTo(before);
    // Nothing of the failed write reached the table folder (files move only after the log entry
    // exists): plain readers see the committed table.
    assertThat(helper.dataFiles("unknowncreate")).hasSize(committedFiles);
    assertThat(helper.plainRead("parquet", "unknowncreate")).isEqualTo(before);
    // The writer could not read the create's outcome back, so it kept its staged files (even
    // through Spark's abort): a committed entry would need them. Cleanup finds no entry naming
    // them and deletes them.
    java.nio.file.Path staging = helper.tableDir("unknowncreate").resolve("_tessera/staging");
    List<String> staged;
    try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(staging)) {
      staged =
          s.filter(java.nio.file.Files::isRegularFile)
              .map(p -> helper.tableDir("unknowncreate").relativize(p).toString())
              .filter(p -> p.endsWith(".parquet"))
              .toList();
    }
    assertThat(staged).isNotEmpty();
    assertThat(snapshotFiles("unknowncreate")).isEqualTo(committedFiles);

    List<String> deleted =
        spark
            .sql(
                "CALL "
                    + catalog
                    + ".system.cleanup(table => 'db.unknowncreate', older_than_minutes => 0)")
            .as(Encoders.STRING())
            .collectAsList();
    assertThat(deleted).containsAll(staged);
    assertThat(helper.dataFiles("unknowncreate")).hasSize(committedFiles);
    assertThat(rows(t)).isEqualTo(before);
  }

  /** Runs one streaming query over the JSON files in {@code input} until they are all written. */
  void streamOnce(Path input, Path checkpoint, String table, String... select) throws Exception {
    StreamingQuery q =
        spark
            .readStream()
            .schema("id BIGINT, name STRING, day STRING")
            .json(input.toString())
            .selectExpr(select)
            .writeStream()
            .option("checkpointLocation", checkpoint.toString())
            .toTable(table);
    try {
      q.processAllAvailable();
    } finally {
      q.stop();
    }
  }

  @Test
  void streamingWritesAreCheckedAgainstTheTableAndWrittenInItsColumnOrder() throws Exception {
    // CSV stores columns by position: a reordered stream must not shift values.
    String t = catalog + ".db.streamcsv";
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, name STRING, day STRING) USING csv PARTITIONED BY (day)");
    Path input = TestPaths.newFolder("schema-in");
    Files.writeString(
        input.resolve("1.json"),
        "{\"id\":1,\"name\":\"n1\",\"day\":\"d1\"}\n{\"id\":2,\"name\":\"n2\",\"day\":\"d2\"}\n");
    streamOnce(input, TestPaths.newFolder("schema-ckpt"), t, "day", "name", "id");
    assertThat(rows(t)).containsExactly("1,n1,d1", "2,n2,d2");

    // A restarted stream whose column changed type (or that has another column) is refused
    // before anything is written, and the table stays readable.
    Files.writeString(input.resolve("2.json"), "{\"id\":3,\"name\":\"n3\",\"day\":\"d1\"}\n");
    assertThatThrownBy(
            () ->
                streamOnce(
                    input,
                    TestPaths.newFolder("schema-ckpt2"),
                    t,
                    "cast(id as int) as id",
                    "name",
                    "day"))
        .hasStackTraceContaining("[SCHEMA_MISMATCH]")
        .hasStackTraceContaining("column 'id' is INT but the table has BIGINT");
    assertThatThrownBy(
            () ->
                streamOnce(
                    input,
                    TestPaths.newFolder("schema-ckpt3"),
                    t,
                    "id",
                    "name",
                    "day",
                    "1 as extra"))
        .hasStackTraceContaining("column 'extra' is not in the table");
    assertThat(rows(t)).containsExactly("1,n1,d1", "2,n2,d2");
  }

  @Test
  void theContinuousTriggerIsRefused() throws Exception {
    // Unpartitioned: for a partitioned table Spark itself refuses (it asks for a distribution).
    String t = catalog + ".db.continuous";
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING)");
    StreamingQuery q =
        spark
            .readStream()
            .format("rate")
            .option("rowsPerSecond", "10")
            .load()
            .selectExpr("value as id", "'n' as name", "'d0' as day")
            .writeStream()
            .option("checkpointLocation", TestPaths.newFolder("continuous-ckpt").toString())
            .trigger(Trigger.Continuous("1 second"))
            .toTable(t);
    try {
      assertThatThrownBy(() -> q.awaitTermination(60_000))
          .hasStackTraceContaining("[UNSUPPORTED_WRITE_MODE]")
          .hasStackTraceContaining("does not support the continuous trigger");
    } finally {
      q.stop();
    }
    assertThat(rows(t)).isEmpty();
    assertThat(helper.dataFiles("continuous")).isEmpty();
  }

  @Test
  void cleanupDuringALongWriteKeepsItsStagedFiles() throws Exception {
    String t = table("longwrite");
    gate = new CountDownLatch(1);
    started = new CountDownLatch(1);
    CompletableFuture<Void> write =
        CompletableFuture.runAsync(
            () -> {
              try {
                FileTableIT.events(0, 90)
                    .selectExpr("if(id = 40, wait_gate(id), id) as id", "name", "day")
                    .writeTo(t)
                    // No shuffle: the row waits inside the writing task, with files staged.
                    .option("distribution", "none")
                    .append();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(2000); // the other tasks finish and stage their files
      // The write has been running for two hours, as far as its staged files' times tell.
      Path staging = helper.tableDir("longwrite").resolve("_tessera/staging");
      long twoHoursAgo = System.currentTimeMillis() - 7_200_000L;
      List<Path> stagedFiles;
      try (Stream<Path> files = Files.walk(staging)) {
        stagedFiles =
            files
                .filter(Files::isRegularFile)
                .filter(f -> !f.getFileName().toString().equals(Heartbeat.FILE))
                .toList();
      }
      assertThat(stagedFiles).isNotEmpty();
      for (Path f : stagedFiles) {
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(twoHoursAgo));
      }
      List<String> deleted =
          spark
              .sql(
                  "CALL "
                      + catalog
                      + ".system.cleanup(table => 'db.longwrite', older_than_minutes => 60)")
              .as(Encoders.STRING())
              .collectAsList();
      assertThat(deleted).isEmpty();
    } finally {
      gate.countDown();
    }
    write.get(120, TimeUnit.SECONDS);
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 90)));
  }

  @Test
  void cleanupRacingACommitNeverDeletesItsFiles() throws Exception {
    String t = table("racecleanup");
    FileTableIT.events(0, 30).writeTo(t).append();
    io.tessera.file.log.TableLog log = helper.tableLog("racecleanup");
    List<String> deletedDuringCommit = new java.util.concurrent.CopyOnWriteArrayList<>();
    // The most eager cleanup possible (every file counts as old) runs after the commit moved its
    // files into the table and before the log entry naming them exists.
    io.tessera.file.log.TableLog.runBeforeNextCreateForTests(
        () ->
            deletedDuringCommit.addAll(
                FileCleanupProcedure.cleanup(log, System.currentTimeMillis() + 3_600_000L)));
    FileTableIT.events(30, 60).writeTo(t).append();
    assertThat(deletedDuringCommit).noneMatch(f -> f.endsWith(".parquet"));
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 60)));
    assertThat(helper.dataFiles("racecleanup")).hasSize(snapshotFiles("racecleanup"));
  }

  /** Rows {@code from..to-1} of one partition, held in their task until the gate opens. */
  static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> held(
      long from, long to, String day) {
    return spark
        .range(from, to, 1, 1)
        .selectExpr(
            "wait_gate(id) as id",
            "concat('n', cast(id as string)) as name",
            "'" + day + "' as day");
  }

  static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> rowsOf(
      long from, long to, String day) {
    return spark
        .range(from, to, 1, 1)
        .selectExpr("id", "concat('n', cast(id as string)) as name", "'" + day + "' as day");
  }

  static List<String> expectedRows(long from, long to, String day) {
    return LongStream.range(from, to).mapToObj(i -> i + ",n" + i + "," + day).toList();
  }

  interface Write {
    void run() throws Exception;
  }

  /**
   * Starts {@code first}, which plans (reads the table version) and then waits in its task; runs
   * {@code second} to its commit; then lets {@code first} finish. Returns first's failure or null.
   */
  Throwable race(Write first, Write second) throws Exception {
    gate = new CountDownLatch(1);
    started = new CountDownLatch(1);
    CompletableFuture<Void> held =
        CompletableFuture.runAsync(
            () -> {
              try {
                first.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
      second.run();
    } finally {
      gate.countDown();
    }
    try {
      held.get(120, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
  }

  @Test
  void concurrentWritesConflictOnlyWhenTheyReplaceTheSamePartitions() throws Exception {
    String t = table("pairs");
    List<String> d0 = expectedRows(0, 3, "d0");
    List<String> d2 = expectedRows(20, 23, "d2");
    java.util.function.Supplier<List<String>> reset =
        () -> {
          try {
            rowsOf(0, 3, "d0").writeTo(t).overwrite(lit(true));
            rowsOf(10, 13, "d1").writeTo(t).append();
            rowsOf(20, 23, "d2").writeTo(t).append();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return rows(t);
        };
    java.util.function.BiFunction<List<String>, List<String>, List<String>> plus =
        (a, b) ->
            java.util.stream.Stream.concat(a.stream(), b.stream())
                .sorted(
                    java.util.Comparator.comparingLong(
                        r -> Long.parseLong(r.substring(0, r.indexOf(',')))))
                .toList();

    // 1. Partition overwrites of different partitions: both land.
    reset.get();
    assertThat(
            race(
                () -> held(100, 103, "d1").writeTo(t).overwritePartitions(),
                () -> rowsOf(200, 203, "d2").writeTo(t).overwritePartitions()))
        .isNull();
    assertThat(rows(t))
        .isEqualTo(
            plus.apply(plus.apply(d0, expectedRows(100, 103, "d1")), expectedRows(200, 203, "d2")));

    // 2. Partition overwrites of the same partition: the later commit fails, nothing of it shows.
    reset.get();
    assertThat(
            race(
                () -> held(100, 103, "d1").writeTo(t).overwritePartitions(),
                () -> rowsOf(200, 203, "d1").writeTo(t).overwritePartitions()))
        .hasStackTraceContaining("[COMMIT_FAILED] Concurrent write to");
    assertThat(rows(t)).isEqualTo(plus.apply(plus.apply(d0, expectedRows(200, 203, "d1")), d2));

    // 3. An overwrite of d1 and an append to d2: both land.
    reset.get();
    assertThat(
            race(
                () -> held(100, 103, "d1").writeTo(t).overwrite(col("day").equalTo("d1")),
                () -> rowsOf(200, 203, "d2").writeTo(t).append()))
        .isNull();
    assertThat(rows(t))
        .isEqualTo(
            plus.apply(
                plus.apply(plus.apply(d0, expectedRows(100, 103, "d1")), d2),
                expectedRows(200, 203, "d2")));

    // 4. An overwrite of d1 and an append to d1 committed meanwhile: the overwrite fails (it
    //    would silently drop the appended rows).
    reset.get();
    assertThat(
            race(
                () -> held(100, 103, "d1").writeTo(t).overwrite(col("day").equalTo("d1")),
                () -> rowsOf(200, 203, "d1").writeTo(t).append()))
        .hasStackTraceContaining("[COMMIT_FAILED] Concurrent write to");
    assertThat(rows(t))
        .isEqualTo(
            plus.apply(
                plus.apply(plus.apply(d0, expectedRows(10, 13, "d1")), d2),
                expectedRows(200, 203, "d1")));

    // 5. An append racing an overwrite of its own partition: the append lands after it (a serial
    //    order: overwrite, then append).
    reset.get();
    assertThat(
            race(
                () -> held(100, 103, "d1").writeTo(t).append(),
                () -> rowsOf(200, 203, "d1").writeTo(t).overwritePartitions()))
        .isNull();
    assertThat(rows(t))
        .isEqualTo(
            plus.apply(
                plus.apply(plus.apply(d0, expectedRows(100, 103, "d1")), d2),
                expectedRows(200, 203, "d1")));
    // Nothing stray: after a cleanup without retention only the snapshot's files are left.
    spark
        .sql(
            "CALL "
                + catalog
                + ".system.cleanup(table => 'db.pairs', older_than_minutes => 0,"
                + " retention_hours => 0)")
        .collectAsList();
    assertThat(helper.dataFiles("pairs")).hasSize(snapshotFiles("pairs"));
  }

  @Test
  void cleanupThatChoseItsFilesBeforeACommitLandedKeepsThem() throws Exception {
    String t = table("racecommit");
    FileTableIT.events(0, 30).writeTo(t).append();
    io.tessera.file.log.TableLog log = helper.tableLog("racecommit");
    CountDownLatch chosen = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> deleted = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<?>[] cleanup = new CompletableFuture<?>[1];
    // Just before the append's log entry is created (its files moved into the table and not yet
    // referenced), the most eager cleanup lists them as candidates and pauses; the append then
    // commits and stops its heartbeat; only then does cleanup go on to delete.
    io.tessera.file.log.TableLog.runBeforeNextCreateForTests(
        () -> {
          FileCleanupProcedure.runAfterNextCandidatesForTests(
              () -> {
                chosen.countDown();
                try {
                  release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
          cleanup[0] =
              CompletableFuture.runAsync(
                  () ->
                      deleted.addAll(
                          FileCleanupProcedure.cleanup(
                              log, System.currentTimeMillis() + 3_600_000L)));
          try {
            assertThat(chosen.await(60, TimeUnit.SECONDS)).isTrue();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    FileTableIT.events(30, 60).writeTo(t).append();
    release.countDown();
    cleanup[0].get(60, TimeUnit.SECONDS);
    assertThat(deleted).noneMatch(f -> f.endsWith(".parquet"));
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 60)));
    assertThat(helper.dataFiles("racecommit")).hasSize(snapshotFiles("racecommit"));
  }

  /** Appends ids {@code from..to-1} as another writer would: its own query, its own thread. */
  private static void appendFromAnotherWriter(String t, long from, long to) {
    try {
      CompletableFuture.runAsync(() -> append(t, from, to)).get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anOverwriteOfWhatItReadNeverDropsACommitMadeAfterItsScan() throws Exception {
    String t = table("readoverwrite");
    FileTableIT.events(0, 9).writeTo(t).append();
    // After INSERT OVERWRITE ... SELECT FROM t chose the version its scan reads, another writer
    // appends: the overwrite would replace those rows unseen, so it must fail instead.
    FileTable.runAfterNextScanPlannedForTests(() -> appendFromAnotherWriter(t, 100, 103));
    assertThatThrownBy(
            () -> spark.sql("INSERT OVERWRITE " + t + " SELECT id + 1000, name, day FROM " + t))
        .hasStackTraceContaining("[COMMIT_FAILED] Concurrent write to");
    assertThat(rows(t))
        .isEqualTo(
            FileTableIT.expected(
                LongStream.concat(LongStream.range(0, 9), LongStream.range(100, 103))));
  }

  @Test
  void everyScanOfATableInOneQueryReadsTheSameVersion() throws Exception {
    String t = table("oneversion");
    FileTableIT.events(0, 9).writeTo(t).append();
    // After the first scan of t chose its version, another writer appends; the second scan of t
    // in the same query must still read that version.
    FileTable.runAfterNextScanPlannedForTests(() -> appendFromAnotherWriter(t, 100, 103));
    long difference =
        spark
            .sql("SELECT (SELECT count(*) FROM " + t + ") - (SELECT count(*) FROM " + t + ")")
            .first()
            .getLong(0);
    assertThat(difference).isZero();
    assertThat(rows(t))
        .isEqualTo(
            FileTableIT.expected(
                LongStream.concat(LongStream.range(0, 9), LongStream.range(100, 103))));
  }

  @Test
  void concurrentAppendsBothLand() throws Exception {
    String t = table("concurrent");
    CompletableFuture<Void> a = CompletableFuture.runAsync(() -> append(t, 0, 500));
    CompletableFuture<Void> b = CompletableFuture.runAsync(() -> append(t, 1000, 1500));
    a.get(120, TimeUnit.SECONDS);
    b.get(120, TimeUnit.SECONDS);

    assertThat(rows(t))
        .isEqualTo(
            FileTableIT.expected(
                LongStream.concat(LongStream.range(0, 500), LongStream.range(1000, 1500))));
  }

  private static void append(String t, long from, long to) {
    try {
      FileTableIT.events(from, to).writeTo(t).append();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void overwriteRacingAnAppendIsDetected() throws Exception {
    String t = table("race");
    FileTableIT.events(0, 10).writeTo(t).append();
    gate = new CountDownLatch(1);
    started = new CountDownLatch(1);
    CompletableFuture<Void> overwrite =
        CompletableFuture.runAsync(
            () -> {
              try {
                spark
                    .range(500, 503, 1, 1)
                    .selectExpr(
                        "wait_gate(id) as id",
                        "concat('n', cast(id as string)) as name",
                        "'d0' as day")
                    .writeTo(t)
                    .overwrite(lit(true));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    // The overwrite has been planned (it read the table version) and now waits in its task.
    assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
    append(t, 20, 23);
    gate.countDown();

    assertThatThrownBy(() -> overwrite.get(120, TimeUnit.SECONDS))
        .hasStackTraceContaining("[COMMIT_FAILED] Concurrent write to")
        .hasStackTraceContaining("nothing was committed");
    assertThat(rows(t))
        .isEqualTo(
            FileTableIT.expected(
                LongStream.concat(LongStream.range(0, 10), LongStream.range(20, 23))));
    assertThat(helper.dataFiles("race")).hasSize(snapshotFiles("race"));
  }

  @Test
  void streamingReplayAfterCrashIsNotWrittenTwice() throws Exception {
    Path path = TestPaths.newFolder("stream-table");
    Path checkpoint = TestPaths.newFolder("stream-ckpt");
    runStream(path, checkpoint, 100);
    // Simulate a crash after the sink committed the last epoch but before Spark recorded it:
    // remove the newest entry of the checkpoint's commit log, so the restart replays that epoch.
    Path commits = checkpoint.resolve("commits");
    Path last;
    try (Stream<Path> s = Files.list(commits)) {
      last =
          s.filter(p -> p.getFileName().toString().matches("\\d+"))
              .max(
                  (x, y) ->
                      Long.compare(
                          Long.parseLong(x.getFileName().toString()),
                          Long.parseLong(y.getFileName().toString())))
              .orElseThrow();
    }
    Files.delete(last);
    Files.deleteIfExists(commits.resolve("." + last.getFileName() + ".crc"));
    long before = count(path);
    runStream(path, checkpoint, before + 100);

    List<Long> plainValues =
        spark
            .read()
            .parquet(path.toString())
            .selectExpr("value")
            .as(Encoders.LONG())
            .collectAsList();
    List<Long> values =
        spark
            .read()
            .format("tessera-file")
            .load(path.toString())
            .selectExpr("value")
            .as(Encoders.LONG())
            .collectAsList();
    Set<Long> distinct = new TreeSet<>(values);
    assertThat(values).hasSize(distinct.size());
    assertThat(distinct).hasSize((int) (((TreeSet<Long>) distinct).last() + 1));
    // A plain reader of the folder (read first, before anything completes a pending commit)
    // saw exactly the same rows.
    assertThat(plainValues).containsExactlyInAnyOrderElementsOf(values);
  }

  @Test
  void streamingCompleteModeReplacesTheTableEachEpoch() throws Exception {
    Path path = TestPaths.newFolder("complete-table");
    StreamingQuery q =
        spark
            .readStream()
            .format("rate")
            .option("rowsPerSecond", "100")
            .load()
            .selectExpr("value % 3 as k")
            .groupBy("k")
            .count()
            .writeStream()
            .outputMode("complete")
            .format("tessera-file")
            .option("path", path.toString())
            .option("checkpointLocation", TestPaths.newFolder("complete-ckpt").toString())
            .trigger(Trigger.ProcessingTime("300 milliseconds"))
            .start();
    try {
      // Watch the query's progress, not the table.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (java.util.Arrays.stream(q.recentProgress()).filter(pr -> pr.numInputRows() > 0).count()
          < 3) {
        assertThat(System.nanoTime()).as("streaming progress").isLessThan(deadline);
        Thread.sleep(200);
      }
    } finally {
      q.stop();
    }
    // Each epoch replaced the whole table: one row per key, never the rows of earlier epochs,
    // for a plain reader of the folder (first) and through the connector alike.
    assertThat(
            spark
                .read()
                .parquet(path.toString())
                .selectExpr("k")
                .as(Encoders.LONG())
                .collectAsList())
        .containsExactlyInAnyOrder(0L, 1L, 2L);
    assertThat(
            spark
                .read()
                .format("tessera-file")
                .load(path.toString())
                .selectExpr("k")
                .as(Encoders.LONG())
                .collectAsList())
        .containsExactlyInAnyOrder(0L, 1L, 2L);
  }

  private static long count(Path path) {
    return spark.read().format("tessera-file").load(path.toString()).count();
  }

  /**
   * The rows of the table, 0 before its first commit (the writers' staging folder under _tessera
   * appears before the log's first entry).
   */
  private static long countOnceCommitted(Path path) {
    try {
      return count(path);
    } catch (io.tessera.common.errors.TesseraException e) {
      if (String.valueOf(e.getMessage()).contains("There is no tessera-file table")) {
        return 0;
      }
      throw e;
    }
  }

  private static void runStream(Path path, Path checkpoint, long minRows) throws Exception {
    StreamingQuery q =
        spark
            .readStream()
            .format("rate")
            .option("rowsPerSecond", "100")
            .option("numPartitions", "2")
            .load()
            .selectExpr("value", "cast(value % 2 as string) as part")
            .writeStream()
            .format("tessera-file")
            .option("path", path.toString())
            .option("partitionBy", "part")
            .option("checkpointLocation", checkpoint.toString())
            .trigger(Trigger.ProcessingTime("300 milliseconds"))
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (countOnceCommitted(path) < minRows) {
      assertThat(System.nanoTime()).as("streaming progress").isLessThan(deadline);
      Thread.sleep(200);
    }
    q.stop();
  }

  @Test
  void hostilePartitionValuesStayInsideTheTable() throws Exception {
    String t = table("hostile");
    List<String> values = List.of("a/b", "../../escape", "x=y", "100%", "with space", "..");
    spark
        .createDataset(values, Encoders.STRING())
        .selectExpr("cast(1 as bigint) as id", "'n' as name", "value as day")
        .writeTo(t)
        .append();

    assertThat(spark.table(t).select("day").as(Encoders.STRING()).collectAsList())
        .containsExactlyInAnyOrderElementsOf(values);
    Path root = helper.tableDir("hostile");
    try (Stream<Path> s = Files.walk(warehouse)) {
      assertThat(
              s.filter(Files::isRegularFile)
                  .filter(p -> p.getFileName().toString().endsWith(".parquet")))
          .allMatch(p -> p.startsWith(root));
    }
    assertThat(
            helper.plainRead("parquet", "hostile").stream()
                .map(r -> r.substring(r.lastIndexOf(',') + 1))
                .collect(Collectors.toList()))
        .containsExactlyInAnyOrderElementsOf(values);

    // An empty string is stored as the default partition and reads back as null, as with Spark's
    // own writer; the README says so.
    spark.sql("SELECT 2L as id, 'n' as name, '' as day").writeTo(t).append();
    assertThat(spark.table(t).where("id = 2").select("day").collectAsList())
        .extracting(r -> r.isNullAt(0) ? null : r.getString(0))
        .containsExactly((String) null);
  }

  @Test
  void badInputFailsClearlyBeforeWriting() throws Exception {
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE " + catalog + ".db.c (id BIGINT, tags ARRAY<STRING>) USING csv"))
        .hasMessageContaining(
            "[UNSUPPORTED_TYPE] Column 'tags' has type ARRAY<STRING>, which format csv cannot store");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE "
                        + catalog
                        + ".db.x (id BIGINT) TBLPROPERTIES (format = 'avro')"))
        .hasMessageContaining(
            "Option 'format' has value 'avro' but expects one of: parquet, orc, json, csv");
    String t = table("strict");
    assertThatThrownBy(
            () -> spark.sql("SELECT 'x' as id, 'n' as name, 'd' as day").writeTo(t).append())
        .hasMessageContaining("id");
    assertThatThrownBy(
            () -> FileTableIT.events(0, 3).writeTo(t).option("maxRecordsPerFil", "5").append())
        .hasMessageContaining("did you mean 'maxRecordsPerFile'?");
    assertThatThrownBy(
            () ->
                FileTableIT.events(0, 3)
                    .writeTo(t)
                    .overwrite(org.apache.spark.sql.functions.col("name").startsWith("n")))
        .hasMessageContaining("[UNSUPPORTED_PREDICATE] tessera-file cannot overwrite")
        .hasMessageContaining("operator STARTS_WITH is not supported")
        .hasMessageContaining("may compare top-level columns (partition columns [day], or others)");
    // A partition value longer than a folder name may be fails before anything is committed.
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 1L as id, 'n' as name, repeat('x', 300) as day")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("Partition column 'day' has a value too long for a folder name");
    assertThat(rows(t)).isEmpty();
    assertThat(helper.dataFiles("strict")).isEmpty();

    // Columns that differ only in case are refused (with case-sensitive analysis on).
    spark.conf().set("spark.sql.caseSensitive", "true");
    try {
      assertThatThrownBy(
              () -> spark.sql("CREATE TABLE " + catalog + ".db.twins (a INT, A INT, id BIGINT)"))
          .hasMessageContaining("Column 'A' differs from another column only in letter case");
    } finally {
      spark.conf().unset("spark.sql.caseSensitive");
    }

    // Partition columns match case-insensitively and keep the column's spelling.
    spark.sql(
        "CREATE TABLE "
            + catalog
            + ".db.cased (id BIGINT, name STRING, Day STRING) PARTITIONED BY (DAY)");
    spark.sql("SELECT 1L as id, 'n' as name, 'd1' as day").writeTo(catalog + ".db.cased").append();
    assertThat(helper.dataFiles("cased")).anyMatch(f -> f.startsWith("Day=d1/"));
    assertThatThrownBy(
            () ->
                spark
                    .read()
                    .format("tessera-file")
                    .load(warehouse.resolve("nothing-here").toString())
                    .count())
        .hasMessageContaining("There is no tessera-file table at");
  }

  private int snapshotFiles(String table) {
    return new io.tessera.file.log.TableLog(
            new org.apache.hadoop.fs.Path(helper.tableDir(table).toString()),
            spark.sessionState().newHadoopConf())
        .snapshot()
        .files()
        .size();
  }
}
