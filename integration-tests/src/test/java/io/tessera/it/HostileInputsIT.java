package io.tessera.it;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Hostile and mistaken input, the way users type it: each case must fail before any data is
 * written, with an error that names the option, column or value (and, where there is one, the fix),
 * and never shows a password. After every case the JDBC table, the file table and the Kafka topic
 * hold exactly what they held before, and no staging table is left.
 */
class HostileInputsIT {
  private static final String PASSWORD = "Sup3r-Secret!pw";

  private static SparkSession spark;
  private static TestDatabase pg;
  private static TestDatabase maria;
  private static KafkaBroker broker;
  private static String topic;
  private static Path warehouse;
  private static String people;

  /** An action the user runs; it must throw. */
  interface Action {
    void run() throws Exception;
  }

  record Case(String name, Action action, List<String> expected) {}

  @BeforeAll
  static void setUp() throws Exception {
    spark = SharedSpark.session();
    pg = TestDatabase.create(DatabaseKind.POSTGRESQL);
    maria = TestDatabase.create(DatabaseKind.MARIADB);
    jdbcCatalog("hi_pg", pg.url(), pg.user(), pg.password());
    pg.execute(
        "CREATE TABLE "
            + pg.qualified("people")
            + " (id BIGINT NOT NULL, name VARCHAR(5), amount DECIMAL(5,2), day VARCHAR(10))",
        "INSERT INTO " + pg.qualified("people") + " VALUES (1, 'ann', 1.50, 'd1')");
    people = "hi_pg." + pg.schema() + ".people";
    warehouse = TestPaths.newFolder("hostile-warehouse");
    spark.conf().set("spark.sql.catalog.hi_files", "io.tessera.file.FileCatalog");
    spark.conf().set("spark.sql.catalog.hi_files.warehouse", warehouse.toString());
    spark.sql("CREATE NAMESPACE IF NOT EXISTS hi_files.h");
    spark.sql(
        "CREATE TABLE hi_files.h.events (id BIGINT, name STRING, day STRING) USING parquet"
            + " PARTITIONED BY (day)");
    spark.sql("INSERT INTO hi_files.h.events VALUES (1, 'ann', 'd1')");
    broker = KafkaBroker.shared();
    topic = broker.newTopic("hostile", 2);
    spark.conf().set("spark.sql.catalog.hi_kafka", "io.tessera.kafka.KafkaCatalog");
    spark.conf().set("spark.sql.catalog.hi_kafka.bootstrap.servers", broker.bootstrapServers());
  }

  @AfterAll
  static void tearDown() throws Exception {
    pg.close();
    maria.close();
  }

  private static void jdbcCatalog(String name, String url, String user, String password) {
    spark.conf().set("spark.sql.catalog." + name, "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog." + name + ".url", url);
    spark.conf().set("spark.sql.catalog." + name + ".user", user);
    spark.conf().set("spark.sql.catalog." + name + ".password", password);
  }

  private static Dataset<Row> person(String id, String name, String amount) {
    return spark.sql(
        "SELECT CAST("
            + id
            + " AS BIGINT) AS id, CAST("
            + name
            + " AS STRING) AS name, CAST("
            + amount
            + " AS DECIMAL(10,2)) AS amount, 'd9' AS day");
  }

  private static Dataset<Row> good() {
    return person("2", "'bob'", "2.5");
  }

  private static Dataset<Row> kafkaRows() {
    return spark.sql("SELECT 'k' AS key, 'v' AS value");
  }

  private static void kafkaWrite(Dataset<Row> rows, String... options) {
    var w =
        rows.write()
            .format("tessera-kafka")
            .option("kafka.bootstrap.servers", broker.bootstrapServers())
            .option("topic", topic)
            .mode("append");
    for (int i = 0; i < options.length; i += 2) {
      w = w.option(options[i], options[i + 1]);
    }
    w.save();
  }

  private static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    // ---- JDBC options
    c.add(
        new Case(
            "misspelled JDBC option",
            () -> good().writeTo(people).option("comit", "direct").append(),
            List.of("Unknown option 'comit'", "did you mean 'commit'")));
    c.add(
        new Case(
            "JDBC option value not allowed",
            () -> good().writeTo(people).option("commit", "fast").append(),
            List.of("Option 'commit' has value 'fast'", "atomic, direct")));
    c.add(
        new Case(
            "JDBC option of the wrong type",
            () -> good().writeTo(people).option("batchSize", "lots").append(),
            List.of("Option 'batchSize' has value 'lots'", "whole number")));
    c.add(
        new Case(
            "JDBC batch size zero",
            () -> good().writeTo(people).option("batchSize", "0").append(),
            List.of("Option 'batchSize' has value '0'", "between 1 and 1000000")));
    c.add(
        new Case(
            "JDBC negative numPartitions",
            () -> good().writeTo(people).option("numPartitions", "-3").append(),
            List.of("Option 'numPartitions' has value '-3'", "between 0 and")));
    c.add(
        new Case(
            "JDBC url changed per write",
            () -> good().writeTo(people).option("url", "jdbc:postgresql://elsewhere/db").append(),
            List.of("Option 'url' cannot be set", "register another catalog")));
    c.add(
        new Case(
            "JDBC partitionKeys naming no column",
            () -> good().writeTo(people).option("partitionKeys", "dya").overwritePartitions(),
            List.of("Option 'partitionKeys' names column 'dya'", "id, name, amount, day")));
    // ---- JDBC values
    c.add(
        new Case(
            "NULL into a NOT NULL column",
            () -> person("NULL", "'bob'", "1").writeTo(people).append(),
            List.of("NOT_NULL_ASSERT_VIOLATION", "non-nullable field: \nid\n")));
    c.add(
        new Case(
            "decimal overflow",
            () -> person("3", "'bob'", "12345.67").writeTo(people).append(),
            List.of("CAST_OVERFLOW_IN_TABLE_INSERT", "`amount`", "DECIMAL(5,2)")));
    c.add(
        new Case(
            "string too long for VARCHAR(5)",
            () -> person("3", "'abcdefgh'", "1").writeTo(people).append(),
            List.of("EXCEED_LIMIT_LENGTH", "length limitation: 5")));
    c.add(
        new Case(
            "string into a BIGINT column",
            () ->
                spark
                    .sql(
                        "SELECT 'x' AS id, 'bob' AS name, CAST(1 AS DECIMAL(5,2)) AS amount, 'd1' AS day")
                    .writeTo(people)
                    .append(),
            List.of("CANNOT_SAFELY_CAST", "`id` \"STRING\" to \"BIGINT\"")));
    c.add(
        new Case(
            "unsupported column type",
            () ->
                spark.sql(
                    "CREATE TABLE hi_pg." + pg.schema() + ".arrays AS SELECT array(1, 2) AS a"),
            List.of("Column 'a' has type ARRAY<INT>", "cast it to one of")));
    c.add(
        new Case(
            "unsupported overwrite condition",
            () -> good().writeTo(people).overwrite(col("name").rlike("^a")),
            List.of("cannot translate expression to source filter", "RLIKE(name")));
    c.add(
        new Case(
            "cleanup threshold below a minute",
            () ->
                spark.sql(
                    "CALL hi_pg.system.cleanup(namespace => '"
                        + pg.schema()
                        + "', older_than_minutes => 0)"),
            List.of("Argument 'older_than_minutes' has value 0", "at least 1")));
    c.add(
        new Case(
            "SQL in a procedure argument",
            () ->
                spark.sql(
                    "CALL hi_pg.system.cleanup(namespace => '"
                        + pg.schema()
                        + "', older_than_minutes => '5; DROP TABLE people')"),
            List.of("CAST_INVALID_INPUT", "'5; DROP TABLE people'", "older_than_minutes")));
    c.add(
        new Case(
            "SQL in a namespace argument",
            () ->
                spark.sql(
                    "CALL hi_pg.system.cleanup(namespace => 'x\"; DROP TABLE people; --', older_than_minutes => 60)"),
            List.of(
                "Argument 'namespace' has value 'x\"; DROP TABLE people; --'", "no such schema")));
    // ---- JDBC connections
    c.add(
        new Case(
            "no dialect for the URL",
            () -> {
              jdbcCatalog("hi_ora", "jdbc:oracle:thin:@db:1521/x", "scott", PASSWORD);
              spark.sql("SHOW TABLES IN hi_ora.s").collect();
            },
            List.of("Option 'url' has value 'jdbc:oracle", "has no dialect")));
    c.add(
        new Case(
            "unreachable database",
            () -> {
              jdbcCatalog(
                  "hi_down",
                  "jdbc:postgresql://127.0.0.1:1/test?connectTimeout=2",
                  "root",
                  PASSWORD);
              good().writeTo("hi_down.public.people").append();
            },
            List.of("CONNECTION_FAILED", "127.0.0.1:1")));
    c.add(
        new Case(
            "bad credentials",
            () -> {
              jdbcCatalog("hi_badpw", maria.url(), "tessera_nobody", PASSWORD);
              good().writeTo("hi_badpw." + maria.schema() + ".people").append();
            },
            List.of("CONNECTION_FAILED", "as user 'tessera_nobody'", "Access denied")));
    // ---- files
    c.add(
        new Case(
            "misspelled file option",
            () ->
                spark
                    .sql("SELECT 2L AS id, 'b' AS name, 'd2' AS day")
                    .writeTo("hi_files.h.events")
                    .option("mergeSchmea", "true")
                    .append(),
            List.of("Unknown option 'mergeSchmea'", "'mergeSchema'")));
    c.add(
        new Case(
            "mergeSchema not a boolean",
            () ->
                spark
                    .sql("SELECT 2L AS id, 'b' AS name, 'd2' AS day")
                    .writeTo("hi_files.h.events")
                    .option("mergeSchema", "maybe")
                    .append(),
            List.of("Option 'mergeSchema' has value 'maybe'", "true or false")));
    c.add(
        new Case(
            "unknown file format",
            () -> spark.sql("CREATE TABLE hi_files.h.xmls (id BIGINT) USING xml"),
            List.of("Option 'format' has value 'xml'", "parquet, orc, json, csv")));
    c.add(
        new Case(
            "namespace escaping the warehouse",
            () -> spark.sql("CREATE NAMESPACE hi_files.`..`"),
            List.of("Namespace '..'", "INVALID_IDENTIFIER")));
    c.add(
        new Case(
            "table name escaping the warehouse",
            () -> spark.sql("CREATE TABLE hi_files.h.`../../escape` (id BIGINT) USING parquet"),
            List.of("Table name '../../escape'", "INVALID_IDENTIFIER")));
    c.add(
        new Case(
            "overwrite by a condition tessera-file cannot evaluate",
            () ->
                spark
                    .sql("SELECT 2L AS id, 'b' AS name, 'd1' AS day")
                    .writeTo("hi_files.h.events")
                    .overwrite(col("name").startsWith("ann")),
            List.of("UNSUPPORTED_PREDICATE", "operator STARTS_WITH is not supported")));
    c.add(
        new Case(
            "object-store warehouse",
            () -> {
              spark.conf().set("spark.sql.catalog.hi_s3", "io.tessera.file.FileCatalog");
              spark.conf().set("spark.sql.catalog.hi_s3.warehouse", "s3a://bucket/warehouse");
              spark.sql("SHOW NAMESPACES IN hi_s3").collect();
            },
            List.of("The warehouse 's3a://bucket/warehouse' is on an object store")));
    c.add(
        new Case(
            "negative retention",
            () ->
                spark.sql(
                    "CALL hi_files.system.cleanup(table => 'h.events', retention_hours => -1)"),
            List.of("Argument 'retention_hours' has value -1", "0 or more")));
    // ---- Kafka
    c.add(
        new Case(
            "producer setting that voids the guarantee",
            () -> kafkaWrite(kafkaRows(), "kafka.acks", "1"),
            List.of("Kafka setting 'kafka.acks' = '1'", "acks=all")));
    c.add(
        new Case(
            "misspelled Kafka setting",
            () -> kafkaWrite(kafkaRows(), "kafka.lingr.ms", "5"),
            List.of("Unknown Kafka setting 'kafka.lingr.ms'", "'kafka.linger.ms'")));
    c.add(
        new Case(
            "no value column",
            () -> kafkaWrite(spark.sql("SELECT 'k' AS key, 'v' AS payload")),
            List.of("Column 'payload' is not a Kafka record field", "value")));
    c.add(
        new Case(
            "key column of the wrong type",
            () -> kafkaWrite(spark.sql("SELECT array(1) AS key, 'v' AS value")),
            List.of("SCHEMA_MISMATCH", "Column 'key' has type ARRAY<INT>", "STRING or BINARY")));
    c.add(
        new Case(
            "partition out of range",
            () -> kafkaWrite(spark.sql("SELECT 'k' AS key, 'v' AS value, 7 AS partition")),
            List.of("Column 'partition' has value 7", "2 partitions")));
    c.add(
        new Case(
            "topic option and topic column",
            () -> kafkaWrite(spark.sql("SELECT 'k' AS key, 'v' AS value, 'other' AS topic")),
            List.of("Option 'topic'", "column 'topic' are both given")));
    c.add(
        new Case(
            "misspelled topic property",
            () ->
                spark.sql(
                    "CREATE TABLE hi_kafka.hostile_new (value STRING) TBLPROPERTIES (partitons = 3)"),
            List.of("Unknown table property 'partitons'", "'partitions'")));
    c.add(
        new Case(
            "unreachable brokers",
            () -> {
              spark.conf().set("spark.sql.catalog.hi_kafka_down", "io.tessera.kafka.KafkaCatalog");
              spark.conf().set("spark.sql.catalog.hi_kafka_down.bootstrap.servers", "127.0.0.1:1");
              spark
                  .conf()
                  .set("spark.sql.catalog.hi_kafka_down.kafka.default.api.timeout.ms", "3000");
              spark.conf().set("spark.sql.catalog.hi_kafka_down.kafka.request.timeout.ms", "3000");
              spark
                  .conf()
                  .set(
                      "spark.sql.catalog.hi_kafka_down.kafka.sasl.jaas.config",
                      "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\""
                          + PASSWORD
                          + "\";");
              spark.sql("SHOW TABLES IN hi_kafka_down").collect();
            },
            List.of("CONNECTION_FAILED", "127.0.0.1:1")));
    return c;
  }

  @TestFactory
  Stream<DynamicTest> everyHostileInputFailsClearlyAndWritesNothing() {
    List<Case> cases = cases();
    assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
    return cases.stream()
        .map(
            k ->
                DynamicTest.dynamicTest(
                    k.name(),
                    () -> {
                      Throwable error = null;
                      try {
                        k.action().run();
                      } catch (Throwable t) {
                        error = t;
                      }
                      assertThat(error).as("%s must fail", k.name()).isNotNull();
                      String text = messages(error);
                      System.out.printf("HOSTILE %-42s %s%n", k.name(), firstLine(text));
                      for (String e : k.expected()) {
                        assertThat(text).as("the error of '%s'", k.name()).contains(e);
                      }
                      assertThat(text).as("the password").doesNotContain(PASSWORD);
                      assertNothingWritten();
                    }));
  }

  private static void assertNothingWritten() throws Exception {
    assertThat(pg.query("SELECT id, name, amount, day FROM " + pg.qualified("people")))
        .as("the PostgreSQL table")
        .containsExactly(List.of(1L, "ann", new java.math.BigDecimal("1.50"), "d1"));
    assertThat(pg.tables()).as("tables left in the schema").containsExactly("people");
    assertThat(maria.tables()).as("tables left in the MariaDB schema").isEmpty();
    assertThat(spark.table("hi_files.h.events").collectAsList().toString())
        .as("the file table")
        .isEqualTo("[[1,ann,d1]]");
    try (Stream<Path> s = Files.list(warehouse)) {
      assertThat(s.map(p -> p.getFileName().toString()).toList())
          .as("the warehouse holds only its namespace")
          .containsExactly("h");
    }
    assertThat(broker.readAll(topic, "read_uncommitted")).as("the topic").isEmpty();
  }

  private static String messages(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
    }
    return sb.toString();
  }

  private static String firstLine(String s) {
    String line = s.lines().findFirst().orElse("");
    return line.length() > 220 ? line.substring(0, 220) + "..." : line;
  }
}
