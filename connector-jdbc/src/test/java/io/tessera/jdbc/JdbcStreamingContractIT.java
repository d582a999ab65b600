package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * Streaming writes into JDBC tables, run once per database: each micro-batch is published like an
 * atomic batch write and recorded with its epoch in the writer's ledger, so a stopped, crashed or
 * replaying query writes every row exactly once. Contents are compared exactly.
 */
abstract class JdbcStreamingContractIT extends JdbcSuite {
  /** Input folder of JSON files of ids; each file is one micro-batch. */
  Path input;

  Path checkpoint;

  /** Writes file {@code n} of the input with ids {@code from} until {@code to}. */
  void inputFile(int n, long from, long to) throws Exception {
    if (input == null) {
      input = TestPaths.newFolder("stream-in");
      checkpoint = TestPaths.newFolder("stream-ckpt");
    }
    String lines =
        LongStream.range(from, to)
            .mapToObj(i -> "{\"id\":" + i + "}")
            .collect(Collectors.joining("\n", "", "\n"));
    Path tmp = input.resolve("." + n + ".json.tmp");
    Files.writeString(tmp, lines);
    // Spark takes files oldest first: a file's number is its age, whatever the clock's grain.
    Files.setLastModifiedTime(
        tmp, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L + n * 1000L));
    Files.move(tmp, input.resolve(String.format("%03d.json", n)));
  }

  /** The input as events rows (id, day, amount), one file per batch, written into {@code t}. */
  StreamingQuery start(String t, String idExpr, Map<String, String> options) throws Exception {
    return spark
        .readStream()
        .schema("id BIGINT")
        .option("maxFilesPerTrigger", "1")
        .json(input.toString())
        .selectExpr(
            idExpr + " as id", "concat('d', cast(id % 3 as string)) as day", "id * 1.5 as amount")
        .writeStream()
        .options(options)
        .option("checkpointLocation", checkpoint.toString())
        .trigger(Trigger.ProcessingTime("100 milliseconds"))
        .toTable(t);
  }

  static void runToEnd(StreamingQuery q) throws Exception {
    try {
      q.processAllAvailable();
    } finally {
      q.stop();
    }
  }

  /** The ledger rows of streaming queries: ledger key to last committed epoch. */
  Map<String, Long> epochs() throws Exception {
    Map<String, Long> out = new java.util.TreeMap<>();
    for (String ledger : db.ledgerTables()) {
      for (List<Object> r :
          db.query(
              "SELECT "
                  + db.quote("write_id")
                  + ", "
                  + db.quote("epoch")
                  + " FROM "
                  + db.qualified(ledger))) {
        out.put((String) r.get(0), r.get(1) == null ? null : ((Number) r.get(1)).longValue());
      }
    }
    return out;
  }

  String ledgerKey(StreamingQuery q, String tableName) {
    return JdbcDialect.streamLedgerKey(
        q.id().toString(),
        io.tessera.jdbc.dialect.JdbcDialects.forUrl(db.url()).qualified(db.schema(), tableName));
  }

  void assertNoStagingTablesLeft() throws Exception {
    assertThat(db.tables()).noneMatch(n -> n.startsWith("tessera_stg_"));
  }

  @Test
  void aQueryStoppedMidStreamAndRestartedWritesEveryRowOnce() throws Exception {
    String t = createEvents("events", 0, "");
    for (int f = 0; f < 5; f++) {
      inputFile(f, f * 10L, f * 10L + 10);
    }
    StreamingQuery first = start(t, "id", Map.of());
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (java.util.Arrays.stream(first.recentProgress())
              .filter(p -> p.numInputRows() > 0)
              .count()
          < 2) {
        assertThat(System.nanoTime()).as("two batches done").isLessThan(deadline);
        Thread.sleep(50);
      }
    } finally {
      first.stop();
    }
    assertThat(rows(t).size()).isBetween(20, 50);

    inputFile(5, 50, 60);
    StreamingQuery second = start(t, "id", Map.of());
    runToEnd(second);

    assertThat(rows(t)).isEqualTo(expected(0, 60));
    assertThat(second.id()).isEqualTo(first.id());
    // One ledger row per query, holding its last committed epoch.
    assertThat(epochs())
        .containsExactly(Map.entry(ledgerKey(second, "events"), second.lastProgress().batchId()));
    assertNoStagingTablesLeft();
  }

  @Test
  void anEpochReplayedAfterTheDatabaseCommittedIsSkipped() throws Exception {
    String t = createEvents("events", 0, "");
    for (int f = 0; f < 3; f++) {
      inputFile(f, f * 10L, f * 10L + 10);
    }
    StreamingQuery q = start(t, "id", Map.of());
    runToEnd(q);
    assertThat(rows(t)).isEqualTo(expected(0, 30));
    long last = q.lastProgress().batchId();
    String key = ledgerKey(q, "events");
    assertThat(epochs()).containsExactly(Map.entry(key, last));
    Object committedAt =
        db.query(
                "SELECT "
                    + db.quote("committed_at_ms")
                    + " FROM "
                    + db.qualified(db.ledgerTables().get(0)))
            .get(0)
            .get(0);

    // The query died after the database committed the last epoch but before Spark wrote its
    // commit log entry: the restarted query runs that epoch again.
    Path commits = checkpoint.resolve("commits");
    Files.delete(commits.resolve(String.valueOf(last)));
    Files.deleteIfExists(commits.resolve("." + last + ".crc"));
    StreamingQuery again = start(t, "id", Map.of());
    runToEnd(again);

    assertThat(rows(t)).isEqualTo(expected(0, 30));
    assertThat(Files.exists(commits.resolve(String.valueOf(last))))
        .as("Spark replayed and committed the epoch")
        .isTrue();
    assertThat(epochs()).containsExactly(Map.entry(key, last));
    assertThat(
            db.query(
                    "SELECT "
                        + db.quote("committed_at_ms")
                        + " FROM "
                        + db.qualified(db.ledgerTables().get(0)))
                .get(0)
                .get(0))
        .as("the ledger row was not written again: the replay was skipped")
        .isEqualTo(committedAt);
    assertNoStagingTablesLeft();
  }

  @Test
  void aCheckpointOlderThanTheTableIsRefusedNotSkipped() throws Exception {
    String t = createEvents("events", 0, "");
    for (int f = 0; f < 3; f++) {
      inputFile(f, f * 10L, f * 10L + 10);
    }
    runToEnd(start(t, "id", Map.of()));
    assertThat(rows(t)).isEqualTo(expected(0, 30));
    // The checkpoint as a backup taken after epoch 1 was planned: Spark replays epoch 1, which
    // the table holds already, and the ledger knows epoch 2 too.
    Files.delete(checkpoint.resolve("commits").resolve("2"));
    Files.deleteIfExists(checkpoint.resolve("commits").resolve(".2.crc"));
    Files.delete(checkpoint.resolve("commits").resolve("1"));
    Files.deleteIfExists(checkpoint.resolve("commits").resolve(".1.crc"));
    Files.delete(checkpoint.resolve("offsets").resolve("2"));
    Files.deleteIfExists(checkpoint.resolve("offsets").resolve(".2.crc"));
    StreamingQuery behind = start(t, "id", Map.of());
    try {
      assertThatThrownBy(() -> behind.awaitTermination(120_000))
          .hasStackTraceContaining("is publishing epoch 1")
          .hasStackTraceContaining("shows epoch 2 committed already")
          .hasStackTraceContaining("Nothing was written");
    } finally {
      behind.stop();
    }
    assertThat(rows(t)).isEqualTo(expected(0, 30));
    assertNoStagingTablesLeft();
  }

  @Test
  void aQueryRestartedAsAnotherDatabaseUserIsRefused() throws Exception {
    String t = createEvents("events", 0, "");
    String other = db.createUser(io.tessera.testing.Names.unique("etl"), "Stream-Pw-42", true);
    db.grant("SELECT, INSERT", "events", other);
    String otherCatalog = io.tessera.testing.Names.unique("cat");
    registerCatalog(otherCatalog, db.userUrl(), other, "Stream-Pw-42");
    inputFile(0, 0, 10);
    runToEnd(start(otherCatalog + "." + db.schema() + ".events", "id", Map.of()));
    assertThat(rows(t)).isEqualTo(expected(0, 10));

    inputFile(1, 10, 20);
    StreamingQuery asMe = start(t, "id", Map.of());
    try {
      assertThatThrownBy(() -> asMe.awaitTermination(120_000))
          .hasStackTraceContaining("as another database user")
          .hasStackTraceContaining("Restart it as the user who started it");
    } finally {
      asMe.stop();
    }
    assertThat(rows(t)).isEqualTo(expected(0, 10));
  }

  @Test
  void anEpochWhoseTaskAlwaysFailsStopsTheQueryAndARestartWritesItOnce() throws Exception {
    String t = createEvents("events", 0, "");
    inputFile(0, 0, 10);
    inputFile(1, 10, 20);
    inputFile(2, 20, 30);
    StreamingQuery failing = start(t, "fail_always(id, 25L)", Map.of());
    try {
      assertThatThrownBy(() -> failing.awaitTermination(120_000))
          .hasStackTraceContaining("injected failure, id 25");
    } finally {
      failing.stop();
    }
    assertThat(rows(t)).isEqualTo(expected(0, 20));
    assertNoStagingTablesLeft();

    StreamingQuery fixed = start(t, "id", Map.of());
    runToEnd(fixed);
    assertThat(rows(t)).isEqualTo(expected(0, 30));
    assertNoStagingTablesLeft();
  }

  @Test
  void completeModeReplacesTheTableWithEachEpoch() throws Exception {
    String t = table("counts");
    spark.sql("CREATE TABLE " + t + " (day STRING, n BIGINT)");
    inputFile(0, 0, 10);
    StreamingQuery q = countsByDay(t, "complete");
    try {
      q.processAllAvailable();
      assertThat(counts(t)).containsExactly("d0=4", "d1=3", "d2=3");
      inputFile(1, 10, 20);
      q.processAllAvailable();
    } finally {
      q.stop();
    }
    assertThat(counts(t)).containsExactly("d0=7", "d1=7", "d2=6");
    assertNoStagingTablesLeft();
  }

  @Test
  void updateModeUpsertsTheChangedRowsByThePrimaryKey() throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified("counts")
            + " ("
            + db.quote("day")
            + " VARCHAR(10) NOT NULL PRIMARY KEY, "
            + db.quote("n")
            + " BIGINT)");
    String t = table("counts");
    inputFile(0, 0, 10);
    StreamingQuery q = countsByDay(t, "update");
    try {
      q.processAllAvailable();
      assertThat(counts(t)).containsExactly("d0=4", "d1=3", "d2=3");
      // Only d0 and d1 change in this epoch: the update mode sends just those two rows.
      inputFile(1, 10, 11);
      inputFile(2, 12, 13);
      q.processAllAvailable();
    } finally {
      q.stop();
    }
    assertThat(counts(t)).containsExactly("d0=5", "d1=4", "d2=3");
    assertNoStagingTablesLeft();
  }

  @Test
  void updateModeWithoutKeysIsRefusedNamingTheFix() throws Exception {
    String t = table("counts");
    spark.sql("CREATE TABLE " + t + " (day STRING, n BIGINT)");
    inputFile(0, 0, 10);
    StreamingQuery q = countsByDay(t, "update");
    try {
      assertThatThrownBy(() -> q.awaitTermination(120_000))
          .hasStackTraceContaining("[MISSING_OPTION]")
          .hasStackTraceContaining("the streaming update output mode")
          .hasStackTraceContaining("set option 'upsertKeys'");
    } finally {
      q.stop();
    }
    assertThat(counts(t)).isEmpty();
  }

  @Test
  void theContinuousTriggerAndDirectCommitAreRefused() throws Exception {
    String t = createEvents("events", 0, "");
    StreamingQuery continuous =
        spark
            .readStream()
            .format("rate")
            .option("rowsPerSecond", "10")
            .load()
            .selectExpr("value as id", "'d0' as day", "1.0 as amount")
            .writeStream()
            .option("checkpointLocation", TestPaths.newFolder("cont-ckpt").toString())
            .trigger(Trigger.Continuous("1 second"))
            .toTable(t);
    try {
      assertThatThrownBy(() -> continuous.awaitTermination(120_000))
          .hasStackTraceContaining("[UNSUPPORTED_WRITE_MODE]")
          .hasStackTraceContaining("tessera-jdbc does not support the continuous trigger");
    } finally {
      continuous.stop();
    }
    inputFile(0, 0, 10);
    StreamingQuery direct = start(t, "id", Map.of("commit", "direct"));
    try {
      assertThatThrownBy(() -> direct.awaitTermination(120_000))
          .hasStackTraceContaining("[UNSUPPORTED_WRITE_MODE]")
          .hasStackTraceContaining("only the atomic commit records each epoch");
    } finally {
      direct.stop();
    }
    assertThat(rows(t)).isEmpty();
    assertNoStagingTablesLeft();
  }

  /** How many input ids fall on each day d0..d2, as (day, n), written to {@code t}. */
  StreamingQuery countsByDay(String t, String outputMode) throws Exception {
    return spark
        .readStream()
        .schema("id BIGINT")
        .option("maxFilesPerTrigger", "1")
        .json(input.toString())
        .selectExpr("concat('d', cast(id % 3 as string)) as day")
        .groupBy("day")
        .count()
        .withColumnRenamed("count", "n")
        .writeStream()
        .outputMode(outputMode)
        .option("checkpointLocation", checkpoint.toString())
        .trigger(Trigger.ProcessingTime("100 milliseconds"))
        .toTable(t);
  }

  List<String> counts(String t) {
    List<String> out = new ArrayList<>();
    for (Row r : spark.table(t).orderBy("day").collectAsList()) {
      out.add(r.getString(0) + "=" + r.getLong(1));
    }
    return out;
  }
}
