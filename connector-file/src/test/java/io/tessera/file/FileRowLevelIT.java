package io.tessera.file;

import static org.assertj.core.api.Assertions.assertThat;

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
    m.rows.clear();
    m.rows.putAll(next);
    check(m, t, format, table);
    assertThat(lastEntry(table).operation()).isEqualTo("merge");
    assertThat(stagingFiles(table)).isEmpty();

    // Time travel to the version before the statements.
    assertThat(rows("SELECT id, name, day FROM " + t + " VERSION AS OF " + before + " ORDER BY id"))
        .hasSize(30);
  }
}
