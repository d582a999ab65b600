package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.FaultInjection;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every JDBC suite that runs once per database shares: the one Spark session, a fresh database
 * (schema) and catalog per test, and the events table the tests write.
 */
abstract class JdbcSuite {
  static SparkSession spark;
  TestDatabase db;
  String catalog;

  abstract DatabaseKind kind();

  @BeforeAll
  static void startSpark() {
    spark = SharedSpark.session();
    FaultInjection.register(spark);
  }

  @BeforeEach
  void createDatabase() {
    db = TestDatabase.create(kind());
    catalog = io.tessera.testing.Names.unique("cat");
    registerCatalog(catalog, db.url(), db.user(), db.password());
  }

  static void registerCatalog(String name, String url, String user, String password) {
    SparkSession spark = SharedSpark.session();
    spark.conf().set("spark.sql.catalog." + name, JdbcCatalog.class.getName());
    spark.conf().set("spark.sql.catalog." + name + ".url", url);
    spark.conf().set("spark.sql.catalog." + name + ".user", user);
    spark.conf().set("spark.sql.catalog." + name + ".password", password);
  }

  @AfterEach
  void dropDatabase() throws Exception {
    db.close();
  }

  String table(String name) {
    return catalog + "." + db.schema() + "." + name;
  }

  /** (id BIGINT NOT NULL, day STRING, amount DOUBLE) with rows id 0..n-1, day d(id % 3). */
  String createEvents(String name, long n, String extra) throws Exception {
    String t = table(name);
    spark.sql("CREATE TABLE " + t + " (id BIGINT NOT NULL, day STRING, amount DOUBLE) " + extra);
    if (n > 0) {
      events(0, n).writeTo(t).append();
    }
    return t;
  }

  /** A table with a primary key on id, holding ids 0..n-1 as {@link #events} writes them. */
  String keyedEvents(String name, long n) throws Exception {
    db.execute(
        "CREATE TABLE "
            + db.qualified(name)
            + " ("
            + db.quote("id")
            + " BIGINT NOT NULL PRIMARY KEY, "
            + db.quote("day")
            + " VARCHAR(20), "
            + db.quote("amount")
            + " DOUBLE PRECISION)");
    String t = table(name);
    if (n > 0) {
      events(0, n).writeTo(t).append();
    }
    return t;
  }

  static Dataset<Row> events(long from, long to) {
    return spark
        .range(from, to, 1, 4)
        .selectExpr("id", "concat('d', cast(id % 3 as string)) as day", "id * 1.5 as amount");
  }

  /** The table's rows as "id,day,amount", ordered by id, read through the catalog. */
  List<String> rows(String t) {
    return spark.table(t).orderBy("id").collectAsList().stream()
        .map(r -> r.get(0) + "," + r.get(1) + "," + r.get(2))
        .collect(Collectors.toList());
  }

  static List<String> expected(long from, long to) {
    return expected(LongStream.range(from, to));
  }

  static List<String> expected(LongStream ids) {
    return ids.sorted()
        .mapToObj(i -> i + ",d" + (i % 3) + "," + (i * 1.5))
        .collect(Collectors.toList());
  }

  long jdbcCount(String name) throws Exception {
    return ((Number) db.query("SELECT COUNT(*) FROM " + db.qualified(name)).get(0).get(0))
        .longValue();
  }

  /** Rows in all ledgers of the schema (one per user that wrote atomically; none before). */
  long ledgerRows() throws Exception {
    long n = 0;
    for (String ledger : db.ledgerTables()) {
      n += jdbcCount(ledger);
    }
    return n;
  }
}
