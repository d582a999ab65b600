package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ALTER TABLE ADD COLUMNS, mergeSchema on provider writes, and create-time properties. */
class FileSchemaEvolutionIT {
  static SparkSession spark;
  FileTableIT helper = new FileTableIT();
  String catalog;

  @BeforeEach
  void registerCatalog() {
    helper.registerCatalog();
    spark = FileTableIT.spark;
    catalog = helper.catalog;
  }

  static List<String> rows(String sql) {
    return spark.sql(sql).collectAsList().stream().map(Row::toString).sorted().toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"parquet", "csv"})
  void addedColumnsReadAsNullInOlderFiles(String format) throws Exception {
    String t = catalog + ".db.evolve_" + format;
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, name STRING, day STRING) USING "
            + format
            + " PARTITIONED BY (day) TBLPROPERTIES ('team' = 'sales') COMMENT 'orders'");
    spark.sql("INSERT INTO " + t + " VALUES (1, 'a', 'd1'), (2, 'b', 'd2')");
    org.apache.spark.sql.Dataset<Row> before = spark.table(t);
    assertThat(before.count()).isEqualTo(2L);
    spark.sql("ALTER TABLE " + t + " ADD COLUMNS (score DOUBLE COMMENT 'points', tag STRING)");
    spark.sql("INSERT INTO " + t + " (id, name, day, score, tag) VALUES (3, 'c', 'd1', 1.5, 'x')");
    assertThat(rows("SELECT id, name, day, score, tag FROM " + t))
        .containsExactly("[1,a,d1,null,null]", "[2,b,d2,null,null]", "[3,c,d1,1.5,x]");
    // A DataFrame resolved before the ALTER still sees every commit, with its own columns.
    assertThat(before.collectAsList().stream().map(Row::toString).sorted().toList())
        .containsExactly("[1,a,d1]", "[2,b,d2]", "[3,c,d1]");

    // Create-time properties are kept and can be changed.
    assertThat(rows("SHOW TBLPROPERTIES " + t)).contains("[team,sales]");
    assertThat(rows("DESCRIBE TABLE EXTENDED " + t)).contains("[Comment,orders,]");
    spark.sql("ALTER TABLE " + t + " SET TBLPROPERTIES ('team' = 'finance')");
    assertThat(rows("SHOW TBLPROPERTIES " + t)).contains("[team,finance]");

    // Changes that would make existing files read wrongly are refused; nothing changes.
    for (String alter :
        List.of(
            "ALTER TABLE " + t + " ALTER COLUMN id TYPE STRING",
            "ALTER TABLE " + t + " RENAME COLUMN name TO title",
            "ALTER TABLE " + t + " DROP COLUMN tag",
            "ALTER TABLE " + t + " ADD COLUMNS (first_col INT FIRST)",
            "ALTER TABLE " + t + " SET TBLPROPERTIES ('format' = 'orc')")) {
      assertThatThrownBy(() -> spark.sql(alter).collect())
          .as(alter)
          .hasMessageContaining("is refused")
          .hasMessageContaining("Nothing was changed");
    }
    assertThat(rows("SELECT id, name, day, score, tag FROM " + t))
        .containsExactly("[1,a,d1,null,null]", "[2,b,d2,null,null]", "[3,c,d1,1.5,x]");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE "
                        + catalog
                        + ".db.located (id BIGINT) LOCATION '/tmp/elsewhere'"))
        .hasMessageContaining("LOCATION 'file:/tmp/elsewhere' is not supported");
  }

  @ParameterizedTest
  @ValueSource(strings = {"parquet", "json"})
  void mergeSchemaAddsTheDataColumnsTheTableLacks(String format) throws Exception {
    String path = helper.warehouse.resolve("merge_" + format).toString();
    spark
        .sql("SELECT 1L AS id, 'a' AS name")
        .write()
        .format("tessera-file")
        .option("path", path)
        .option("format", format)
        .mode("append")
        .save();
    // Without the option a new column is refused, naming it.
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 2L AS id, 'b' AS name, 7 AS extra")
                    .write()
                    .format("tessera-file")
                    .option("path", path)
                    .mode("append")
                    .save())
        .hasMessageContaining("extra");
    spark
        .sql("SELECT 2L AS id, 'b' AS name, 7 AS extra")
        .write()
        .format("tessera-file")
        .option("path", path)
        .option("mergeSchema", "true")
        .mode("append")
        .save();
    assertThat(
            spark.read().format("tessera-file").load(path).collectAsList().stream()
                .map(Row::toString)
                .sorted()
                .toList())
        .containsExactly("[1,a,null]", "[2,b,7]");
    // A column of another type is still refused.
    assertThatThrownBy(
            () ->
                spark
                    .sql("SELECT 3L AS id, 'c' AS name, 'text' AS extra")
                    .write()
                    .format("tessera-file")
                    .option("path", path)
                    .option("mergeSchema", "true")
                    .mode("append")
                    .save())
        .hasMessageContaining("column 'extra' is STRING but the table has INT");
  }

  @org.junit.jupiter.api.Test
  void catalogTablesWithTheMergeSchemaPropertyAddColumnsOnWrite() throws Exception {
    String t = catalog + ".db.merging";
    spark.sql(
        "CREATE TABLE " + t + " (id BIGINT, name STRING) TBLPROPERTIES ('mergeSchema' = 'true')");
    spark.sql("SELECT 1L AS id, 'a' AS name").writeTo(t).append();
    spark.sql("SELECT 2L AS id, 'b' AS name, 7 AS extra").writeTo(t).append();
    assertThat(rows("SELECT * FROM " + t)).containsExactly("[1,a,null]", "[2,b,7]");
    assertThatThrownBy(
            () -> spark.sql("SELECT 3L AS id, 'c' AS name, 'x' AS extra").writeTo(t).append())
        .hasMessageContaining("column 'extra' is STRING but the table has INT");
    assertThat(rows("SELECT * FROM " + t)).containsExactly("[1,a,null]", "[2,b,7]");
  }
}
