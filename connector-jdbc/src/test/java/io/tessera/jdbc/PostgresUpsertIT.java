package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PostgresUpsertIT extends JdbcUpsertContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }

  /**
   * Spark reads uuid as a string; keys of such types compare by their text. A case-insensitive key
   * (a nondeterministic collation) would let ON CONFLICT update the row of another key as Spark
   * sees it: refused, naming the key.
   */
  @Test
  void uuidKeysAndCaseInsensitiveCollationsCompareAsSparkDoes() throws Exception {
    db.execute(
        "CREATE TABLE " + db.qualified("ids") + " (id uuid PRIMARY KEY, n BIGINT)",
        "CREATE COLLATION IF NOT EXISTS "
            + db.schema()
            + ".ci (provider = icu, locale ="
            + " 'und-u-ks-level2', deterministic = false)",
        "CREATE TABLE "
            + db.qualified("mails")
            + " (mail TEXT COLLATE "
            + db.schema()
            + ".ci PRIMARY KEY, n BIGINT)");
    String ids = table("ids");
    String a = "00000000-0000-0000-0000-00000000000a";
    spark.sql("SELECT '" + a + "' id, 1L n").writeTo(ids).append();
    spark
        .sql(
            "SELECT * FROM VALUES ('"
                + a
                + "', 2L), ('00000000-0000-0000-0000-00000000000b', 3L) AS v(id, n)")
        .writeTo(ids)
        .option("writeMode", "upsert")
        .append();
    assertThat(
            spark.table(ids).orderBy("id").collectAsList().stream()
                .map(r -> r.get(0) + "=" + r.get(1))
                .collect(Collectors.toList()))
        .containsExactly(a + "=2", "00000000-0000-0000-0000-00000000000b=3");

    String mails = table("mails");
    spark.sql("SELECT 'bob@x' mail, 1L n").writeTo(mails).append();
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 'Bob@x' mail, 2L n")
                    .writeTo(mails)
                    .option("writeMode", "upsert")
                    .append())
        .hasMessageContaining("[DUPLICATE_UPSERT_KEY]")
        .hasMessageContaining("mail = Bob@x");
    assertThat(spark.table(mails).collectAsList().toString()).isEqualTo("[[bob@x,1]]");
  }
}
