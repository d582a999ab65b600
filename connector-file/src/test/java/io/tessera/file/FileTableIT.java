package io.tessera.file;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every write mode in every format, read back through the catalog and as plain files. */
class FileTableIT {
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

  static Dataset<Row> events(long from, long to) {
    return spark
        .range(from, to, 1, 3)
        .selectExpr(
            "id",
            "concat('n', cast(id as string)) as name",
            "concat('d', cast(id % 3 as string)) as day");
  }

  static List<String> expected(LongStream ids) {
    return ids.sorted().mapToObj(i -> i + ",n" + i + ",d" + (i % 3)).collect(Collectors.toList());
  }

  static List<String> strings(Dataset<Row> df) {
    return df
        .selectExpr("cast(id as bigint) as id", "name", "day")
        .orderBy("id")
        .collectAsList()
        .stream()
        .map(r -> r.get(0) + "," + r.get(1) + "," + r.get(2))
        .collect(Collectors.toList());
  }

  /**
   * A plain reader after cleanup with no retention: files that overwrites removed are kept for time
   * travel until cleanup deletes them, and plain readers (which ignore the log) see them.
   */
  List<String> plainReadAfterCleanup(String format, String table) {
    spark
        .sql(
            "CALL "
                + catalog
                + ".system.cleanup(table => 'db."
                + table
                + "', older_than_minutes => 0, retention_hours => 0)")
        .collectAsList();
    return plainRead(format, table);
  }

  /** The table read by a plain Spark reader of the format, ignoring the commit log. */
  List<String> plainRead(String format, String table) {
    return strings(
        spark
            .read()
            .format(format)
            .schema("id BIGINT, name STRING, day STRING")
            .load(warehouse.resolve("db").resolve(table).toString()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"parquet", "orc", "json", "csv"})
  void everyModeGivesExactContentsThroughCatalogAndPlainReadersRightAfterEachCommit(String format)
      throws Exception {
    String t = catalog + ".db.t_" + format;
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, name STRING, day STRING) USING "
            + format
            + " PARTITIONED BY (day)");

    events(0, 30).writeTo(t).append();
    List<String> want = expected(LongStream.range(0, 30));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);

    events(100, 112).where("day = 'd1'").writeTo(t).overwrite(col("day").equalTo("d1"));
    want =
        expected(
            LongStream.concat(
                LongStream.range(0, 30).filter(i -> i % 3 != 1),
                LongStream.range(100, 112).filter(i -> i % 3 == 1)));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);

    events(200, 206).where("day = 'd2'").writeTo(t).overwritePartitions();
    want =
        expected(
            LongStream.concat(
                LongStream.range(0, 30).filter(i -> i % 3 == 0),
                LongStream.concat(
                    LongStream.range(100, 112).filter(i -> i % 3 == 1),
                    LongStream.range(200, 206).filter(i -> i % 3 == 2))));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);

    String view = Names.unique("src");
    events(500, 504).createOrReplaceTempView(view);
    spark.sql("INSERT OVERWRITE " + t + " SELECT * FROM " + view);
    want = expected(LongStream.range(500, 504));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);

    events(700, 703).writeTo(t).overwrite(org.apache.spark.sql.functions.lit(true)); // truncate
    want = expected(LongStream.range(700, 703));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);

    events(800, 805).createOrReplaceTempView(view);
    spark.sql(
        "REPLACE TABLE "
            + t
            + " USING "
            + format
            + " PARTITIONED BY (day) AS SELECT * FROM "
            + view);
    want = expected(LongStream.range(800, 805));
    // The plain reader first: a read through the connector would complete a pending commit.
    assertThat(plainRead(format, "t_" + format)).isEqualTo(want);
    assertThat(strings(spark.table(t))).isEqualTo(want);
    assertThat(stagingFiles("t_" + format)).isEmpty();
    // Time travel still reads the replaced versions, from _tessera/retired/.
    assertThat(strings(spark.sql("SELECT * FROM " + t + " VERSION AS OF 1")))
        .isEqualTo(expected(LongStream.range(0, 30)));
  }

  @org.junit.jupiter.api.Test
  void providerCreatesTableOnFirstWriteAndHonoursMaxRecordsPerFile() throws Exception {
    Path path = TestPaths.newFolder("provider");
    events(0, 40)
        .write()
        .format("tessera-file")
        .option("path", path.toString())
        .option("partitionBy", "day")
        .option("format", "orc")
        .option("maxRecordsPerFile", "5")
        .mode("append")
        .save();
    events(40, 43)
        .write()
        .format("tessera-file")
        .option("path", path.toString())
        .mode("append")
        .save();

    assertThat(strings(spark.read().format("tessera-file").load(path.toString())))
        .isEqualTo(expected(LongStream.range(0, 43)));
    try (Stream<Path> s = Files.walk(path)) {
      List<Path> orc =
          s.filter(p -> p.toString().endsWith(".orc") && !p.toString().contains("_tessera"))
              .toList();
      // 40 rows over 3 days (14, 13, 13) at 5 rows per file: 3 + 3 + 3 files, then 3 more.
      assertThat(orc).hasSize(12);
    }
  }

  Path tableDir(String table) {
    return warehouse.resolve("db").resolve(table);
  }

  io.tessera.file.log.TableLog tableLog(String table) {
    return new io.tessera.file.log.TableLog(
        new org.apache.hadoop.fs.Path(tableDir(table).toString()),
        spark.sessionState().newHadoopConf());
  }

  io.tessera.file.log.Snapshot snapshot(String table) {
    return new io.tessera.file.log.TableLog(
            new org.apache.hadoop.fs.Path(tableDir(table).toString()),
            spark.sessionState().newHadoopConf())
        .snapshot();
  }

  long snapshotVersion(String table) {
    return snapshot(table).version();
  }

  /** The table-relative paths of the latest version's files. */
  List<String> snapshotPaths(String table) {
    return snapshot(table).files().stream()
        .map(io.tessera.file.log.AddFile::path)
        .sorted()
        .toList();
  }

  List<Path> stagingFiles(String table) throws IOException {
    Path staging = tableDir(table).resolve("_tessera/staging");
    if (!Files.exists(staging)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(staging)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }

  List<String> dataFiles(String table) throws IOException {
    Path root = tableDir(table);
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(p -> root.relativize(p).toString())
          .filter(p -> !p.startsWith("_tessera") && !p.contains("/.") && !p.startsWith("."))
          .sorted()
          .toList();
    }
  }

  @Test
  void namespaceAndTableNamesCannotEscapeTheWarehouse() throws Exception {
    // A file next to the warehouse, in its parent folder: no statement below may delete it.
    java.nio.file.Path sentinel = warehouse.getParent().resolve(Names.unique("sentinel"));
    java.nio.file.Files.writeString(sentinel, "keep");
    java.nio.file.Files.writeString(warehouse.resolve("keep.txt"), "keep");
    List<String> statements =
        List.of(
            "DROP NAMESPACE " + catalog + ".`..` CASCADE",
            "DROP NAMESPACE " + catalog + ".`.` CASCADE",
            "CREATE NAMESPACE " + catalog + ".`a/b`",
            "CREATE NAMESPACE " + catalog + ".`c:d`",
            "CREATE NAMESPACE " + catalog + ".``",
            "CREATE TABLE " + catalog + ".db.`..` (id BIGINT) USING parquet",
            "CREATE TABLE " + catalog + ".db.`x\\\\y` (id BIGINT) USING parquet",
            "CREATE TABLE " + catalog + ".db.`_tessera` (id BIGINT) USING parquet",
            "DROP TABLE " + catalog + ".db.`..`",
            "SHOW TABLES IN " + catalog + ".`..`");
    for (String sql : statements) {
      assertThatThrownBy(() -> spark.sql(sql).collectAsList())
          .as(sql)
          .hasMessageContaining("[INVALID_IDENTIFIER]")
          .hasMessageContaining("one folder inside the warehouse");
    }
    assertThat(java.nio.file.Files.readString(sentinel)).isEqualTo("keep");
    assertThat(java.nio.file.Files.readString(warehouse.resolve("keep.txt"))).isEqualTo("keep");
    assertThat(java.nio.file.Files.isDirectory(warehouse.resolve("db"))).isTrue();
    try (var files = java.nio.file.Files.list(warehouse)) {
      assertThat(files.map(f -> f.getFileName().toString()).sorted().toList())
          .containsExactly("db", "keep.txt");
    }
  }

  @Test
  void objectStoresWithoutAtomicCreateAreRefused() {
    String s3 = Names.unique("files");
    spark.conf().set("spark.sql.catalog." + s3, FileCatalog.class.getName());
    spark.conf().set("spark.sql.catalog." + s3 + ".warehouse", "s3a://bucket/warehouse");
    assertThatThrownBy(() -> spark.sql("SHOW NAMESPACES IN " + s3).collectAsList())
        .hasMessageContaining("[INVALID_OPTION_VALUE]")
        .hasMessageContaining("'s3a://bucket/warehouse' is on an object store (s3a:)");
    assertThatThrownBy(
            () ->
                spark
                    .range(3)
                    .write()
                    .format("tessera-file")
                    .option("path", "gs://bucket/t")
                    .mode("append")
                    .save())
        .hasMessageContaining("is on an object store (gs:)");
  }

  @Test
  void tableFoldersWithGlobCharactersAreReadable() throws Exception {
    // Reads plan from the log: the folder name is never taken as a glob pattern.
    String path = warehouse.resolve("odd [x] {y} *z? name").toString();
    events(0, 9)
        .write()
        .format("tessera-file")
        .option("path", path)
        .option("partitionBy", "day")
        .mode("append")
        .save();
    assertThat(strings(spark.read().format("tessera-file").load(path)))
        .isEqualTo(expected(LongStream.range(0, 9)));
    assertThat(strings(spark.read().format("tessera-file").load(path).where("day = 'd1'")))
        .isEqualTo(expected(LongStream.range(0, 9).filter(i -> i % 3 == 1)));
  }

  @Test
  void partitionFiltersSelectExactlyTheMatchingRowsForEveryPartitionType() throws Exception {
    // Partition filters are evaluated only against the log's partition values (Spark applies
    // them to no row afterwards), so each kind of value and filter is checked against the rows.
    String t = catalog + ".db.typed";
    spark.sql(
        "CREATE TABLE "
            + t
            + " (id BIGINT, i INT, d DATE, b BOOLEAN, m DECIMAL(10,2), s STRING)"
            + " PARTITIONED BY (i, d, b, m, s)");
    spark.sql(
        "INSERT INTO "
            + t
            + " VALUES"
            + " (1, 1, DATE'2026-01-01', true, 1.50, 'a/b'),"
            + " (2, 2, DATE'2026-01-02', false, 2.25, '100%'),"
            + " (3, NULL, NULL, NULL, NULL, NULL),"
            + " (4, -3, DATE'1999-12-31', true, -7.00, 'With Space'),"
            + " (5, 2, DATE'2026-01-02', false, 2.25, '')");
    List<String> filters =
        List.of(
            "i = 2",
            "i > 0",
            "i IS NULL",
            "i <=> NULL",
            "d = DATE'2026-01-02'",
            "d < DATE'2026-01-01'",
            "b",
            "NOT b",
            "m = 2.25",
            "m < 0",
            "s = 'a/b'",
            "s = '100%'",
            "s IS NULL",
            "s LIKE 'With%'",
            "i = 2 AND s IS NULL",
            "i = 1 OR m < 0",
            "I = 1");
    for (String f : filters) {
      // The expected ids: all rows materialised first, then filtered in memory.
      List<Long> want =
          spark
              .sql("SELECT * FROM " + t)
              .localCheckpoint()
              .where(f)
              .select("id")
              .as(org.apache.spark.sql.Encoders.LONG())
              .collectAsList()
              .stream()
              .sorted()
              .toList();
      List<Long> got =
          spark
              .sql("SELECT id FROM " + t + " WHERE " + f)
              .as(org.apache.spark.sql.Encoders.LONG())
              .collectAsList()
              .stream()
              .sorted()
              .toList();
      assertThat(got).as(f).isEqualTo(want);
    }
    assertThat(
            spark
                .sql("SELECT id FROM " + t + " WHERE i = 2")
                .as(org.apache.spark.sql.Encoders.LONG())
                .collectAsList())
        .containsExactlyInAnyOrder(2L, 5L);
    assertThat(
            spark
                .sql("SELECT id FROM " + t + " WHERE s IS NULL")
                .as(org.apache.spark.sql.Encoders.LONG())
                .collectAsList())
        .containsExactlyInAnyOrder(3L, 5L);
  }
}
