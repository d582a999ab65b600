package io.tessera.jdbc;

import static io.tessera.jdbc.JdbcContractIT.events;
import static io.tessera.jdbc.JdbcContractIT.expected;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several database users writing into one schema, run once per database by the subclasses. Each
 * user has a catalog of its own with its own password; every write is checked exactly, Tessera's
 * bookkeeping tables are created by whichever user comes first, and no password appears in an
 * error, a plan or a log line.
 */
abstract class MultiUserContractIT {
  static SparkSession spark;
  TestDatabase db;
  String admin;
  private final Map<String, String> passwords = new HashMap<>();
  private final List<String> logLines = Collections.synchronizedList(new ArrayList<>());
  private AbstractAppender capture;

  abstract DatabaseKind kind();

  @BeforeAll
  static void startSpark() {
    spark = SharedSpark.session();
    JdbcContractIT.spark = spark; // for its events(), shared with the contract suite
  }

  @BeforeEach
  void createDatabase() {
    db = TestDatabase.create(kind());
    admin = Names.unique("adm");
    JdbcContractIT.registerCatalog(admin, db.url(), db.user(), db.password());
    capture =
        new AbstractAppender("multi-user-capture", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            StringBuilder line = new StringBuilder(event.getMessage().getFormattedMessage());
            if (event.getThrown() != null) {
              line.append('\n').append(stackTrace(event.getThrown()));
            }
            logLines.add(line.toString());
          }
        };
    capture.start();
    loggerConfig("io.tessera").addAppender(capture, Level.INFO, null);
    loggerConfig("").addAppender(capture, Level.WARN, null);
    ((LoggerContext) LogManager.getContext(false)).updateLoggers();
  }

  private static LoggerConfig loggerConfig(String name) {
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    LoggerConfig config = ctx.getConfiguration().getLoggerConfig(name);
    if (!config.getName().equals(name)) {
      config = new LoggerConfig(name, Level.INFO, true);
      ctx.getConfiguration().addLogger(name, config);
    }
    return config;
  }

  @AfterEach
  void dropDatabase() throws Exception {
    loggerConfig("io.tessera").removeAppender(capture.getName());
    loggerConfig("").removeAppender(capture.getName());
    ((LoggerContext) LogManager.getContext(false)).updateLoggers();
    capture.stop();
    try {
      assertThat(logLines).as("log lines captured").isNotEmpty();
      for (String secret : passwords.values()) {
        assertThat(String.join("\n", logLines)).doesNotContain(secret);
      }
    } finally {
      db.close();
    }
  }

  /** A new database user and a catalog that connects as it; returns the catalog's name. */
  String writer(boolean mayCreate) throws Exception {
    String user = Names.unique("etl");
    String password = "Pw-" + user.hashCode() + "-Secret";
    db.createUser(user, password, mayCreate);
    String catalog = Names.unique("as");
    JdbcContractIT.registerCatalog(catalog, db.userUrl(), user, password);
    passwords.put(catalog, password);
    return catalog;
  }

  String user(String catalog) {
    return spark.conf().get("spark.sql.catalog." + catalog + ".user");
  }

  String table(String catalog, String name) {
    return catalog + "." + db.schema() + "." + name;
  }

  List<String> rows(String t) {
    return spark.table(t).orderBy("id").collectAsList().stream()
        .map(r -> r.get(0) + "," + r.get(1) + "," + r.get(2))
        .collect(Collectors.toList());
  }

  /** A failed write's error names what it must, and no password. */
  void assertNoSecrets(Throwable e) {
    String text = stackTrace(e);
    for (String secret : passwords.values()) {
      assertThat(text).doesNotContain(secret);
    }
  }

  void assertNothingLeft() throws Exception {
    assertThat(db.tables()).noneMatch(t -> t.startsWith("tessera_stg_"));
    for (String ledger : db.ledgerTables()) {
      assertThat(db.query("SELECT COUNT(*) FROM " + db.qualified(ledger)).get(0).get(0).toString())
          .as("rows left in " + ledger)
          .isEqualTo("0");
    }
  }

  /** Create, append, overwrite one day: ids base..base+20 without day d1, base+100.. in d1. */
  void ownTableJourney(String catalog, String name, long base) throws Exception {
    String t = table(catalog, name);
    events(base, base + 10).writeTo(t).create();
    events(base + 10, base + 20).writeTo(t).append();
    events(base + 100, base + 106)
        .where("day = 'd1'")
        .writeTo(t)
        .overwrite(col("day").equalTo("d1"));
  }

  static List<String> journeyRows(long base) {
    return expected(
        LongStream.concat(
            LongStream.range(base, base + 20).filter(i -> i % 3 != 1),
            LongStream.range(base + 100, base + 106).filter(i -> i % 3 == 1)));
  }

  /**
   * The first user's writes create the schema's lock table and its own ledger; the second user's
   * writes come after and must not need anything of the first's (on PostgreSQL they failed with
   * "permission denied for table tessera_ledger"). Then the first writes again.
   */
  @Test
  void usersWriteTheirOwnTablesWhoeverWroteFirst() throws Exception {
    String a = writer(true);
    String b = writer(true);
    ownTableJourney(a, "a_events", 0);
    ownTableJourney(b, "b_events", 1000);
    events(20, 23).writeTo(table(a, "a_events")).append();

    assertThat(rows(table(admin, "a_events")))
        .isEqualTo(
            expected(
                LongStream.concat(
                    LongStream.range(0, 23).filter(i -> i % 3 != 1 || i >= 20),
                    LongStream.range(100, 106).filter(i -> i % 3 == 1))));
    assertThat(rows(table(admin, "b_events"))).isEqualTo(journeyRows(1000));
    assertThat(db.ledgerTables()).as("a ledger per user").hasSize(2);
    assertNothingLeft();

    // Plans of a write from one user's table into the other's name neither password.
    String insert =
        "INSERT INTO " + table(b, "b_events") + " SELECT * FROM " + table(a, "a_events");
    String plans =
        spark.sql("EXPLAIN EXTENDED " + insert).collectAsList().toString()
            + spark.sql("EXPLAIN FORMATTED " + insert).collectAsList().toString()
            + spark.table(table(a, "a_events")).queryExecution().toString();
    assertThat(plans).contains("b_events");
    for (String secret : passwords.values()) {
      assertThat(plans).doesNotContain(secret);
    }
  }

  /** Both users' first writes run at the same moment, each into its own table. */
  @Test
  void usersWriteTheirOwnTablesAtTheSameTime() throws Exception {
    String a = writer(true);
    String b = writer(true);
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    Thread ta = JdbcContractIT.writer(() -> ownTableJourney(a, "a_events", 0), failures);
    Thread tb = JdbcContractIT.writer(() -> ownTableJourney(b, "b_events", 1000), failures);
    ta.join(120_000);
    tb.join(120_000);

    assertThat(failures).isEmpty();
    assertThat(rows(table(admin, "a_events"))).isEqualTo(journeyRows(0));
    assertThat(rows(table(admin, "b_events"))).isEqualTo(journeyRows(1000));
    assertNothingLeft();
  }

  /**
   * Two users overwrite one table (owned by the test's own user) at the same moment: the writer
   * lock serialises them whoever they are, so the table ends as one of them, never both. Then both
   * append at once and both land.
   */
  @Test
  void twoUsersWritingOneTableQueueAndBothLand() throws Exception {
    String a = writer(true);
    String b = writer(true);
    String shared = table(admin, "shared");
    events(0, 10).writeTo(shared).create();
    db.grant("SELECT, INSERT, DELETE", "shared", user(a));
    db.grant("SELECT, INSERT, DELETE", "shared", user(b));
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    try (java.sql.Connection blocker = db.connect()) {
      if (kind() == DatabaseKind.H2) {
        blocker.createStatement().execute("SET DEFAULT_LOCK_TIMEOUT 60000");
      }
      blocker.setAutoCommit(false);
      blocker
          .createStatement()
          .executeUpdate(
              "DELETE FROM " + db.qualified("shared") + " WHERE " + db.quote("id") + " = 0");
      Thread ta =
          JdbcContractIT.writer(
              () -> events(100, 110).writeTo(table(a, "shared")).overwrite(lit(true)), failures);
      Thread tb =
          JdbcContractIT.writer(
              () -> events(200, 212).writeTo(table(b, "shared")).overwrite(lit(true)), failures);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> db.sessionsWaitingForLocks() >= 2);
      blocker.rollback();
      ta.join(60_000);
      tb.join(60_000);
    }
    assertThat(failures).isEmpty();
    List<String> afterOverwrites = rows(shared);
    assertThat(afterOverwrites).isIn(expected(100, 110), expected(200, 212));

    Thread ta =
        JdbcContractIT.writer(
            () -> events(300, 310).writeTo(table(a, "shared")).append(), failures);
    Thread tb =
        JdbcContractIT.writer(
            () -> events(400, 412).writeTo(table(b, "shared")).append(), failures);
    ta.join(60_000);
    tb.join(60_000);
    assertThat(failures).isEmpty();
    List<String> want = new ArrayList<>(afterOverwrites);
    want.addAll(
        expected(LongStream.concat(LongStream.range(300, 310), LongStream.range(400, 412))));
    Collections.sort(
        want, java.util.Comparator.comparingLong(r -> Long.parseLong(r.split(",")[0])));
    assertThat(rows(shared)).isEqualTo(want);
    assertNothingLeft();
  }

  /**
   * A user who may write the table's rows but not create tables in the schema cannot stage an
   * atomic write: the error names the privilege and the GRANT to run, before any task, and nothing
   * is written. The same user can append with commit=direct, which needs INSERT only.
   */
  @Test
  void aUserWhoCannotCreateTablesIsToldTheGrantAndNothingIsWritten() throws Exception {
    String shared = table(admin, "shared");
    events(0, 5).writeTo(shared).create();
    events(5, 7).writeTo(shared).append(); // the lock table and a ledger exist already
    String c = writer(false);
    db.grant("SELECT, INSERT, DELETE", "shared", user(c));
    String expectedGrant =
        switch (kind()) {
          case POSTGRESQL ->
              "GRANT CREATE ON SCHEMA \"" + db.schema() + "\" TO \"" + user(c) + "\"";
          case MARIADB ->
              "GRANT CREATE, ALTER, DROP, SELECT, INSERT, UPDATE, DELETE ON `"
                  + db.schema()
                  + "`.* TO '"
                  + user(c)
                  + "'@'%'";
          case H2 -> "GRANT ALTER ANY SCHEMA TO \"" + user(c).toUpperCase() + "\"";
        };

    for (JdbcContractIT.ThrowingRunnable write :
        List.<JdbcContractIT.ThrowingRunnable>of(
            () -> events(100, 110).writeTo(table(c, "shared")).append(),
            () -> events(100, 110).writeTo(table(c, "shared")).overwrite(lit(true)),
            () -> events(100, 110).writeTo(table(c, "copy")).create())) {
      assertThatThrownBy(write::run)
          .hasMessageContaining("[MISSING_PRIVILEGE]")
          .hasMessageContaining("nothing was written")
          .hasMessageContaining(expectedGrant)
          .satisfies(this::assertNoSecrets);
    }
    assertThat(rows(shared)).isEqualTo(expected(0, 7));
    assertThat(db.tables()).containsExactly("shared");
    assertNothingLeft();

    events(7, 9).writeTo(table(c, "shared")).option("commit", "direct").append();
    assertThat(rows(shared)).isEqualTo(expected(0, 9));
  }

  /**
   * A user with no privilege on the target is told it needs SELECT (to load the table at all); with
   * SELECT only, that it needs INSERT; before any staging table exists, nothing written.
   */
  @Test
  void aUserWithoutPrivilegesOnTheTargetIsToldTheGrant() throws Exception {
    String shared = table(admin, "shared");
    events(0, 5).writeTo(shared).create();
    String c = writer(false);
    String q = db.qualified("shared");
    if (kind() == DatabaseKind.MARIADB) {
      // MariaDB shows a user only the tables it holds a privilege on: this one does not exist.
      assertThatThrownBy(() -> events(100, 110).writeTo(table(c, "shared")).append())
          .hasMessageContaining("TABLE_OR_VIEW_NOT_FOUND");
      db.grant("SELECT", "shared", user(c));
    }
    for (String privilege :
        kind() == DatabaseKind.MARIADB ? List.of("INSERT") : List.of("SELECT", "INSERT")) {
      assertThatThrownBy(() -> events(100, 110).writeTo(table(c, "shared")).append())
          .hasMessageContaining("[MISSING_PRIVILEGE]")
          .hasMessageContaining("needs the privilege " + privilege + " on " + q)
          .hasMessageContaining("GRANT " + privilege + " ON " + q + " TO ")
          .satisfies(this::assertNoSecrets);
      db.grant("SELECT", "shared", user(c));
    }
    assertThat(rows(shared)).isEqualTo(expected(0, 5));
    assertThat(db.tables()).containsExactly("shared");
  }

  static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }
}
