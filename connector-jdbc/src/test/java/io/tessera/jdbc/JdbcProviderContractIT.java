package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * {@code format("tessera-jdbc")} with Spark's JDBC option names, run once per database: the same
 * table and guarantees as the catalog, reached without one.
 */
abstract class JdbcProviderContractIT extends JdbcSuite {
  Map<String, String> connection() {
    return Map.of(
        "url",
        db.url(),
        "dbtable",
        db.quote(db.schema()) + "." + db.quote("events"),
        "user",
        db.user(),
        "password",
        db.password());
  }

  DataFrameWriter<Row> writer(Dataset<Row> df) {
    return df.write().format("tessera-jdbc").options(connection());
  }

  List<String> read() {
    return spark
        .read()
        .format("tessera-jdbc")
        .options(connection())
        .load()
        .orderBy("id")
        .collectAsList()
        .stream()
        .map(r -> r.get(0) + "," + r.get(1) + "," + r.get(2))
        .collect(Collectors.toList());
  }

  @Test
  void appendCreatesTheTableThenOverwriteReplacesItsRowsAtomically() throws Exception {
    writer(events(0, 10)).mode(SaveMode.Append).save();
    assertThat(read()).isEqualTo(expected(0, 10));
    writer(events(10, 15)).mode(SaveMode.Append).option("batchsize", "2").save();
    assertThat(read()).isEqualTo(expected(0, 15));
    writer(events(100, 103)).mode(SaveMode.Overwrite).option("truncate", "true").save();
    assertThat(read()).isEqualTo(expected(100, 103));
    assertThat(rows(table("events"))).as("the catalog sees it too").isEqualTo(expected(100, 103));

    // A failing job leaves the table as it was: no task's rows appear.
    assertThatThrownBy(
            () ->
                writer(events(0, 40).selectExpr("fail_always(id, 33L) as id", "day", "amount"))
                    .mode(SaveMode.Overwrite)
                    .save())
        .hasStackTraceContaining("injected failure, id 33");
    assertThat(read()).isEqualTo(expected(100, 103));
    assertThat(db.tables()).noneMatch(n -> n.startsWith("tessera_stg_"));
  }

  /**
   * dbtable as Spark's source passes it, unquoted (the database folds its case) or quoted (exactly
   * that name): Tessera writes the table the database would.
   */
  @Test
  void dbtableNamesTheTableTheDatabaseWould() throws Exception {
    db.execute(
        "CREATE TABLE " + db.qualified("Mixed") + " (" + db.quote("id") + " BIGINT)",
        "CREATE TABLE " + db.qualified("mixed") + " (" + db.quote("id") + " BIGINT)");
    Map<String, String> options = new java.util.HashMap<>(connection());
    java.util.function.BiConsumer<String, Long> write =
        (dbtable, id) -> {
          options.put("dbtable", db.quote(db.schema()) + "." + dbtable);
          spark
              .sql("SELECT " + id + "L AS id")
              .write()
              .format("tessera-jdbc")
              .options(options)
              .mode("append")
              .save();
        };
    write.accept(db.quote("Mixed"), 1L);
    write.accept(db.quote("mixed"), 2L);
    write.accept("MIXED", 3L);
    // PostgreSQL folds MIXED to mixed; H2 to MIXED, and MariaDB keeps it: a new table there.
    String folded = kind() == io.tessera.testing.DatabaseKind.POSTGRESQL ? "mixed" : "MIXED";
    assertThat(db.query("SELECT " + db.quote("id") + " FROM " + db.qualified("Mixed")).toString())
        .isEqualTo("[[1]]");
    assertThat(
            db.query(
                    "SELECT "
                        + db.quote("id")
                        + " FROM "
                        + db.qualified(folded)
                        + " ORDER BY "
                        + db.quote("id"))
                .toString())
        .isEqualTo(folded.equals("mixed") ? "[[2], [3]]" : "[[3]]");
    assertThatThrownBy(() -> write.accept("x; DROP TABLE y", 4L))
        .hasMessageContaining("Option 'dbtable' has value");
  }

  @Test
  void sparkOptionsTesseraDoesNotHonourAndMisspeltOnesFailBeforeWriting() throws Exception {
    writer(events(0, 3)).mode(SaveMode.Append).save();
    assertThatThrownBy(
            () ->
                writer(events(3, 6)).mode(SaveMode.Append).option("isolationLevel", "NONE").save())
        .hasMessageContaining("[UNKNOWN_OPTION]")
        .hasMessageContaining("Option 'isolationLevel' of Spark's JDBC source does not apply");
    assertThatThrownBy(
            () -> writer(events(3, 6)).mode(SaveMode.Append).option("batchsise", "100").save())
        .hasMessageContaining("[UNKNOWN_OPTION]")
        .hasMessageContaining("batchsise")
        .hasMessageContaining("batchSize");
    assertThatThrownBy(
            () -> writer(events(3, 6)).mode(SaveMode.Overwrite).option("truncate", "false").save())
        .hasMessageContaining("Option 'truncate' has value 'false'");
    assertThatThrownBy(
            () -> writer(events(3, 6)).mode(SaveMode.Append).option("driver", "org.Other").save())
        .hasMessageContaining("Option 'driver' has value 'org.Other'");
    // Spark's default mode (ErrorIfExists) is refused by Spark itself for path-less sources.
    assertThatThrownBy(() -> writer(events(3, 6)).save())
        .hasMessageContaining("UNSUPPORTED_DATA_SOURCE_SAVE_MODE");
    assertThat(read()).isEqualTo(expected(0, 3));
  }

  @Test
  void thePasswordIsInNoPlanAndNoError() throws Exception {
    writer(events(0, 3)).mode(SaveMode.Append).save();
    String secret = "Provider-Pw-42";
    String reader = db.createUser(io.tessera.testing.Names.unique("rd"), secret, true);
    db.grant("SELECT, INSERT", "events", reader);
    Map<String, String> asReader = new java.util.HashMap<>(connection());
    asReader.put("url", db.userUrl());
    asReader.put("user", reader);
    asReader.put("password", secret);
    Dataset<Row> df = spark.read().format("tessera-jdbc").options(asReader).load();
    assertThat(df.count()).isEqualTo(3);
    Dataset<Row> write = events(3, 4);
    write.write().format("tessera-jdbc").options(asReader).mode("append").save();
    String plans =
        df.queryExecution().toString()
            + df.queryExecution()
                .explainString(org.apache.spark.sql.execution.ExtendedMode$.MODULE$);
    assertThat(plans).contains("tessera-jdbc").doesNotContain(secret);

    // A connection that fails names the URL and user, never the password.
    Map<String, String> unreachable = new java.util.HashMap<>(asReader);
    unreachable.put(
        "url",
        db.url().startsWith("jdbc:h2:")
            ? "jdbc:h2:tcp://127.0.0.1:1/mem:nowhere"
            : db.url().replaceFirst("//[^/]+/", "//127.0.0.1:1/"));
    Throwable t =
        org.assertj.core.api.Assertions.catchThrowable(
            () ->
                events(0, 1)
                    .write()
                    .format("tessera-jdbc")
                    .options(unreachable)
                    .mode("append")
                    .save());
    assertThat(t).isNotNull();
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c).append('\n');
    }
    assertThat(all.toString()).contains("[CONNECTION_FAILED]").doesNotContain(secret);
    assertThat(read()).isEqualTo(expected(0, 4));
  }

  @Test
  void aStreamingQueryWritesThroughTheFormatExactlyOnce() throws Exception {
    Path input = TestPaths.newFolder("provider-in");
    Files.writeString(input.resolve("0.json"), "{\"id\":0}\n{\"id\":1}\n");
    Path checkpoint = TestPaths.newFolder("provider-ckpt");
    for (int run = 0; run < 2; run++) {
      StreamingQuery q =
          spark
              .readStream()
              .schema("id BIGINT")
              .json(input.toString())
              .selectExpr("id", "concat('d', cast(id % 3 as string)) as day", "id * 1.5 as amount")
              .writeStream()
              .format("tessera-jdbc")
              .options(connection())
              .option("checkpointLocation", checkpoint.toString())
              .trigger(Trigger.ProcessingTime("100 milliseconds"))
              .start();
      try {
        q.processAllAvailable();
      } finally {
        q.stop();
      }
      Files.writeString(input.resolve("1.json"), "{\"id\":2}\n");
    }
    assertThat(read()).isEqualTo(expected(0, 3));
  }
}
