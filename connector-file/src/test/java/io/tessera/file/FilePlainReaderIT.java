package io.tessera.file;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The table folder outside {@code _tessera/} is exactly the committed table for readers that do not
 * know the log ({@code spark.read.parquet} here, as Hive or Trino would list it): removed files
 * leave it at commit, nothing uncommitted enters it, and a crash between the log entry and the file
 * moves is completed by the next commit, read or cleanup.
 */
class FilePlainReaderIT {
  static SparkSession spark;
  static volatile CountDownLatch gate = new CountDownLatch(0);
  static volatile CountDownLatch started = new CountDownLatch(0);
  static final AtomicBoolean blockOnce = new AtomicBoolean();
  String catalog;
  FileTableIT helper = new FileTableIT();

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    FaultInjection.register(spark);
    spark
        .udf()
        .register(
            "block_first_row",
            (UDF1<Long, Long>)
                id -> {
                  if (blockOnce.compareAndSet(true, false)) {
                    started.countDown();
                    gate.await(60, TimeUnit.SECONDS);
                  }
                  return id;
                },
            DataTypes.LongType);
  }

  @BeforeEach
  void registerCatalog() {
    helper.registerCatalog();
    catalog = helper.catalog;
  }

  @AfterEach
  void noCrashLeftArmed() {
    Relocation.crashNextRollForwardForTests(0, null);
  }

  String table(String name) {
    String t = catalog + ".db." + name;
    spark.sql("CREATE TABLE " + t + " (id BIGINT, name STRING, day STRING) PARTITIONED BY (day)");
    return t;
  }

  List<String> rows(String t) {
    return FileTableIT.strings(spark.table(t));
  }

  List<String> plain(String name) {
    return helper.plainRead("parquet", name);
  }

  /** The table's version v + 1 rows after an overwrite of day d1 with ids 100..111. */
  static List<String> afterOverwrite() {
    return FileTableIT.expected(
        LongStream.concat(
            LongStream.range(0, 30).filter(i -> i % 3 != 1),
            LongStream.range(100, 112).filter(i -> i % 3 == 1)));
  }

  @Test
  void aCommitCutOffBeforeItsMovesIsInvisibleToPlainReadersUntilCleanupCompletesIt()
      throws Exception {
    String t = table("cut");
    FileTableIT.events(0, 30).writeTo(t).append();
    List<String> before = rows(t);
    // The driver "dies" right after the log entry exists, before moving any file.
    Relocation.crashNextRollForwardForTests(0, new Error("injected: the driver dies here"));
    FileTableIT.events(100, 112).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));

    // Committed (its entry exists), but the table folder still shows the previous version:
    // plain readers never see a new file before its entry, nor miss an old one before it.
    assertThat(plain("cut")).isEqualTo(before);
    List<String> deleted =
        spark
            .sql("CALL " + catalog + ".system.cleanup(table => 'db.cut', older_than_minutes => 0)")
            .as(Encoders.STRING())
            .collectAsList();
    assertThat(deleted).noneMatch(p -> p.endsWith(".parquet") && !p.startsWith("_tessera/"));
    assertThat(plain("cut")).isEqualTo(afterOverwrite());
    assertThat(rows(t)).isEqualTo(afterOverwrite());
    assertThat(helper.stagingFiles("cut")).isEmpty();
  }

  @Test
  void aCommitCutOffHalfwayThroughItsMovesIsCompletedByTheNextCommit() throws Exception {
    String t = table("half");
    FileTableIT.events(0, 30).writeTo(t).append();
    Relocation.crashNextRollForwardForTests(1, new Error("injected: the driver dies here"));
    FileTableIT.events(100, 112).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));
    // The next writer completes the cut-off moves before it commits on top of them.
    FileTableIT.events(200, 203).where("day = 'd2'").writeTo(t).append();
    List<String> want =
        FileTableIT.expected(
            LongStream.concat(
                LongStream.concat(
                    LongStream.range(0, 30).filter(i -> i % 3 != 1),
                    LongStream.range(100, 112).filter(i -> i % 3 == 1)),
                LongStream.range(200, 203).filter(i -> i % 3 == 2)));
    assertThat(plain("half")).isEqualTo(want);
    assertThat(rows(t)).isEqualTo(want);
  }

  @Test
  void aReadThroughTheConnectorCompletesACutOffCommitBeforeItPlans() throws Exception {
    String t = table("readfix");
    FileTableIT.events(0, 30).writeTo(t).append();
    Relocation.crashNextRollForwardForTests(0, new Error("injected: the driver dies here"));
    FileTableIT.events(100, 112).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));
    assertThat(rows(t)).isEqualTo(afterOverwrite());
    assertThat(plain("readfix")).isEqualTo(afterOverwrite());
  }

  /**
   * The driver fails with an Error right after its log entry exists: the job reports failure, but
   * the write is committed, and Spark's abort must not delete the staged files that entry names.
   * The next read through the connector completes the moves: the rows are there once.
   */
  @Test
  void anErrorRightAfterTheCommitPointNeverLosesTheCommittedFiles() throws Exception {
    String t = table("erred");
    FileTableIT.events(0, 30).writeTo(t).append();
    io.tessera.file.log.TableLog.injectFaultForTests(
        io.tessera.file.log.TableLog.CreateFault.ERROR_AFTER);
    assertThatThrownBy(() -> FileTableIT.events(30, 60).writeTo(t).append())
        .hasStackTraceContaining("injected: the driver fails right after the create");
    assertThat(plain("erred")).isEqualTo(FileTableIT.expected(LongStream.range(0, 30)));
    assertThat(rows(t)).isEqualTo(FileTableIT.expected(LongStream.range(0, 60)));
    assertThat(plain("erred")).isEqualTo(FileTableIT.expected(LongStream.range(0, 60)));
  }

  @Test
  void aFailedJobLeavesThePlainViewExactlyAsItWas() throws Exception {
    String t = table("failed");
    FileTableIT.events(0, 30).writeTo(t).append();
    List<String> before = rows(t);
    assertThatThrownBy(
            () ->
                FileTableIT.events(100, 400)
                    .selectExpr("fail_always(id, 250L) as id", "name", "day")
                    .writeTo(t)
                    .overwrite(lit(true)))
        .hasStackTraceContaining("injected failure");
    assertThat(plain("failed")).isEqualTo(before);
    assertThat(rows(t)).isEqualTo(before);
  }

  /**
   * A query planned at version v reads its files one after another in one task; while its first row
   * waits, an overwrite commits and retires every file of v. The query still returns exactly v's
   * rows (the later files are read from _tessera/retired/), and so does time travel to v.
   */
  @Test
  void aSlowScanReadsItsVersionWhileAnOverwriteRetiresItsFiles() throws Exception {
    String t = table("slow");
    for (int i = 0; i < 4; i++) {
      FileTableIT.events(i * 30L, i * 30L + 30).writeTo(t).append();
    }
    List<String> v = rows(t);
    long version = helper.snapshotVersion("slow");
    String[] keys = {
      "spark.sql.files.maxPartitionBytes",
      "spark.sql.files.openCostInBytes",
      "spark.sql.files.minPartitionNum"
    };
    String[] old = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      old[i] = spark.conf().get(keys[i], null);
    }
    // All files in one partition, so one task opens them in turn.
    spark.conf().set(keys[0], "1g");
    spark.conf().set(keys[1], "1");
    spark.conf().set(keys[2], "1");
    started = new CountDownLatch(1);
    gate = new CountDownLatch(1);
    blockOnce.set(true);
    try {
      CompletableFuture<List<String>> slow =
          CompletableFuture.supplyAsync(
              () ->
                  FileTableIT.strings(
                      spark.table(t).selectExpr("block_first_row(id) as id", "name", "day")));
      assertThat(started.await(60, TimeUnit.SECONDS)).as("the scan started").isTrue();
      FileTableIT.events(500, 506).writeTo(t).overwrite(lit(true));
      assertThat(helper.dataFiles("slow"))
          .as("every file of v left the table folder")
          .isEqualTo(helper.snapshotPaths("slow"));
      gate.countDown();
      assertThat(slow.get(60, TimeUnit.SECONDS)).isEqualTo(v);
    } finally {
      gate.countDown();
      blockOnce.set(false);
      for (int i = 0; i < keys.length; i++) {
        if (old[i] == null) {
          spark.conf().unset(keys[i]);
        } else {
          spark.conf().set(keys[i], old[i]);
        }
      }
    }
    assertThat(plain("slow")).isEqualTo(FileTableIT.expected(LongStream.range(500, 506)));
    assertThat(FileTableIT.strings(spark.sql("SELECT * FROM " + t + " VERSION AS OF " + version)))
        .isEqualTo(v);
  }

  /**
   * Retired files stay for the retention period (time travel reads them), then cleanup deletes them
   * and the old version can no longer be read. A removed file that an older Tessera left in the
   * table folder is retired by cleanup, so plain readers are right again.
   */
  @Test
  void retiredFilesLiveForTheRetentionPeriodAndOldLeftoversAreRetiredByCleanup() throws Exception {
    String t = table("retire");
    FileTableIT.events(0, 30).writeTo(t).append();
    FileTableIT.events(100, 112).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));
    Path root = helper.tableDir("retire");
    List<Path> retired = parquetUnder(root.resolve("_tessera/retired"));
    assertThat(retired).isNotEmpty();

    // As a table written by an earlier Tessera looks: the removed file still in its partition.
    Path leftover = retired.get(0);
    Path inPlace = root.resolve(root.resolve("_tessera/retired").relativize(leftover).toString());
    Files.move(leftover, inPlace);
    assertThat(plain("retire")).isNotEqualTo(afterOverwrite());
    cleanup("retire", null);
    assertThat(plain("retire")).isEqualTo(afterOverwrite());
    assertThat(parquetUnder(root.resolve("_tessera/retired"))).hasSameSizeAs(retired);
    assertThat(FileTableIT.strings(spark.sql("SELECT * FROM " + t + " VERSION AS OF 1")))
        .isEqualTo(FileTableIT.expected(LongStream.range(0, 30)));

    List<String> deleted = cleanup("retire", 0);
    assertThat(deleted).hasSize(retired.size()).allMatch(p -> p.startsWith("_tessera/retired/"));
    assertThat(parquetUnder(root.resolve("_tessera/retired"))).isEmpty();
    assertThatThrownBy(() -> spark.sql("SELECT * FROM " + t + " VERSION AS OF 1").collect())
        .hasMessageContaining("can no longer be read");
    assertThat(plain("retire")).isEqualTo(afterOverwrite());
    assertThat(rows(t)).isEqualTo(afterOverwrite());
  }

  private List<String> cleanup(String name, Integer retentionHours) {
    return spark
        .sql(
            "CALL "
                + catalog
                + ".system.cleanup(table => 'db."
                + name
                + "', older_than_minutes => 0"
                + (retentionHours == null ? "" : ", retention_hours => " + retentionHours)
                + ")")
        .as(Encoders.STRING())
        .collectAsList()
        .stream()
        .filter(p -> p.endsWith(".parquet"))
        .toList();
  }

  private static List<Path> parquetUnder(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
    }
  }
}
