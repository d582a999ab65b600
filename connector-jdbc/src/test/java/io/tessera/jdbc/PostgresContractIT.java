package io.tessera.jdbc;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import java.util.stream.LongStream;
import org.apache.spark.sql.Encoders;
import org.junit.jupiter.api.Test;

class PostgresContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }

  /** A declaratively partitioned table is listed by SHOW TABLES and takes every write mode. */
  @Test
  void partitionedTablesAreListedAndWritable() throws Exception {
    String parent = db.qualified("events");
    db.execute(
        "CREATE TABLE "
            + parent
            + " (id BIGINT NOT NULL, day TEXT, amount DOUBLE PRECISION) PARTITION BY LIST (day)",
        "CREATE TABLE "
            + db.qualified("events_d0")
            + " PARTITION OF "
            + parent
            + " FOR VALUES IN ('d0')",
        "CREATE TABLE " + db.qualified("events_rest") + " PARTITION OF " + parent + " DEFAULT");
    String t = table("events");

    assertThat(
            spark
                .sql("SHOW TABLES IN " + catalog + "." + db.schema())
                .select("tableName")
                .as(Encoders.STRING())
                .collectAsList())
        .contains("events");
    events(0, 12).writeTo(t).append();
    events(100, 106).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));

    assertThat(rows(t))
        .isEqualTo(
            expected(
                LongStream.concat(
                    LongStream.range(0, 12).filter(i -> i % 3 != 1),
                    LongStream.range(100, 106).filter(i -> i % 3 == 1))));
    assertThat(jdbcCount("events_d0")).isEqualTo(4);
    assertNoStagingTables();
  }

  @Test
  void nulCharacterInTextFailsClearlyAndWritesNothing() throws Exception {
    String t = createEvents("events", 3, "");
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 9L AS id, concat('d', char(0), 'x') AS day, 1.0d AS amount")
                    .writeTo(t)
                    .append())
        .hasStackTraceContaining("[UNSUPPORTED_TYPE] Column 'day' has the value 'd\\u0000x'")
        .hasStackTraceContaining("translate(day, char(0), '')");
    assertThat(rows(t)).isEqualTo(expected(0, 3));
    assertNoStagingTables();
  }

  @Test
  void unconfirmedCommitIsResolvedFromTheLedgerHere() throws Exception {
    unconfirmedCommitIsResolvedFromTheLedger();
  }
}
