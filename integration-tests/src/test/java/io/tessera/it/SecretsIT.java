package io.tessera.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.ui.SQLExecutionUIData;
import org.junit.jupiter.api.Test;

/**
 * With a JDBC password (as an option and inside the URL) and Kafka SASL and SSL secrets configured,
 * run what users run (writes, CTAS, EXPLAIN, DESCRIBE, failing writes on the driver and in executor
 * tasks) and look for the secrets everywhere Spark shows text: every log line at INFO and above
 * (driver and executors share this JVM in local mode), EXPLAIN output, the SQL tab's plan strings
 * and descriptions, DESCRIBE output, and the full text of every exception with its causes and stack
 * trace.
 */
class SecretsIT {
  private static final String PG_PASSWORD = "Pg-Secret-4711";
  private static final String URL_PASSWORD = "Url-Secret-0815";
  private static final String SASL_PASSWORD = "Sasl-Secret-9876";
  private static final String SSL_PASSWORD = "Ssl-Secret-2468";
  private static final String MARIA_PASSWORD = "Maria-Secret-1357";
  private static final List<String> SECRETS =
      List.of(PG_PASSWORD, URL_PASSWORD, SASL_PASSWORD, SSL_PASSWORD, MARIA_PASSWORD);

  @Test
  void secretsAppearNowhere() throws Exception {
    SparkSession spark = SharedSpark.session();
    StringBuilder seen = new StringBuilder();
    List<String> logLines = new ArrayList<>();
    AbstractAppender capture =
        new AbstractAppender("secrets-capture", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            StringBuilder line =
                new StringBuilder(event.getLoggerName())
                    .append(": ")
                    .append(event.getMessage().getFormattedMessage());
            if (event.getThrown() != null) {
              line.append('\n').append(stackTrace(event.getThrown()));
            }
            synchronized (logLines) {
              logLines.add(line.toString());
            }
          }
        };
    capture.start();
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    Configuration config = ctx.getConfiguration();
    // Every logger, including those the test log configuration quiets (Executor, TaskSetManager,
    // the v2 write execs, Kafka's clients), logs at INFO into the capture during this test.
    Map<LoggerConfig, Level> before = new HashMap<>();
    for (LoggerConfig logger : allLoggerConfigs(config)) {
      before.put(logger, logger.getLevel());
      logger.setLevel(Level.INFO);
      logger.addAppender(capture, Level.INFO, null);
    }
    ctx.updateLoggers();
    KafkaBroker broker = KafkaBroker.shared();
    try (TestDatabase pg = TestDatabase.create(DatabaseKind.POSTGRESQL);
        TestDatabase maria = TestDatabase.create(DatabaseKind.MARIADB)) {
      // PostgreSQL here trusts local connections, so the passwords are accepted and unused.
      catalog(spark, "sec_pg", pg.url(), pg.user(), PG_PASSWORD);
      catalog(spark, "sec_pgurl", pg.url() + "?password=" + URL_PASSWORD, pg.user(), null);
      String kafkaSecrets =
          "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\""
              + " password=\""
              + SASL_PASSWORD
              + "\";";
      spark.conf().set("spark.sql.catalog.sec_kafka", "io.tessera.kafka.KafkaCatalog");
      spark.conf().set("spark.sql.catalog.sec_kafka.bootstrap.servers", broker.bootstrapServers());
      spark.conf().set("spark.sql.catalog.sec_kafka.kafka.sasl.jaas.config", kafkaSecrets);
      spark.conf().set("spark.sql.catalog.sec_kafka.kafka.ssl.key.password", SSL_PASSWORD);
      String topic = broker.newTopic("secrets", 2);
      var rows = spark.range(0, 1000).selectExpr("id", "concat('n', id) AS name");

      // Writes that succeed, and what users look at around them.
      String t1 = "sec_pg." + pg.schema() + ".people";
      rows.writeTo(t1).create();
      rows.writeTo(t1).append();
      spark.sql("CREATE TABLE sec_pgurl." + pg.schema() + ".copy AS SELECT * FROM " + t1);
      seen.append(explain(spark, "INSERT INTO " + t1 + " SELECT * FROM " + t1));
      seen.append(
          explain(spark, "INSERT INTO sec_pgurl." + pg.schema() + ".copy SELECT * FROM " + t1));
      seen.append(rowsText(spark.sql("DESCRIBE TABLE EXTENDED " + t1).collectAsList()));
      seen.append(
          rowsText(
              spark
                  .sql("DESCRIBE TABLE EXTENDED sec_pgurl." + pg.schema() + ".copy")
                  .collectAsList()));
      seen.append(rowsText(spark.sql("SHOW TABLES IN sec_pgurl." + pg.schema()).collectAsList()));
      rows.selectExpr("CAST(id AS STRING) AS key", "name AS value")
          .writeTo("sec_kafka." + topic)
          .append();
      rows.selectExpr("CAST(id AS STRING) AS key", "name AS value")
          .write()
          .format("tessera-kafka")
          .option("kafka.bootstrap.servers", broker.bootstrapServers())
          .option("kafka.sasl.jaas.config", kafkaSecrets)
          .option("kafka.ssl.key.password", SSL_PASSWORD)
          .option("topic", topic)
          .mode("append")
          .save();
      // Exactly-once: the transactional producers, the driver's admin client, the ledger's
      // consumer and producer all get the secrets too.
      rows.selectExpr("CAST(id AS STRING) AS key", "name AS value")
          .write()
          .format("tessera-kafka")
          .option("kafka.bootstrap.servers", broker.bootstrapServers())
          .option("kafka.sasl.jaas.config", kafkaSecrets)
          .option("kafka.ssl.key.password", SSL_PASSWORD)
          .option("delivery", "exactly-once")
          .option("transactionalIdPrefix", "secrets-it")
          .option("topic", topic)
          .mode("append")
          .save();
      seen.append(
          explain(
              spark,
              "INSERT INTO sec_kafka."
                  + topic
                  + " SELECT CAST(id AS STRING) AS key, name AS value"
                  + " FROM "
                  + t1));
      seen.append(
          rowsText(spark.sql("DESCRIBE TABLE EXTENDED sec_kafka." + topic).collectAsList()));

      // Failures: on the driver (wrong password, a publish the database refuses), in executor
      // tasks (a row the database refuses in a direct write, a bad row for Kafka).
      pg.execute(
          "ALTER TABLE "
              + pg.qualified("copy")
              + " ADD CONSTRAINT copy_id_positive CHECK (id >= 0)");
      var negative = spark.sql("SELECT -1L AS id, 'minus' AS name");
      seen.append(
          failure(
              () ->
                  negative
                      .writeTo("sec_pgurl." + pg.schema() + ".copy")
                      .option("commit", "direct")
                      .append()));
      seen.append(failure(() -> negative.writeTo("sec_pgurl." + pg.schema() + ".copy").append()));
      assertThat(pg.query("SELECT count(*) FROM " + pg.qualified("copy")).get(0).get(0))
          .as("rows in the table whose writes failed")
          .isEqualTo(2000L);
      catalog(spark, "sec_maria", maria.url(), "tessera_nobody", MARIA_PASSWORD);
      seen.append(failure(() -> rows.writeTo("sec_maria." + maria.schema() + ".people").create()));
      seen.append(
          failure(
              () ->
                  spark
                      .sql("SELECT 'k' AS key, 'v' AS value, 9 AS partition")
                      .writeTo("sec_kafka." + topic)
                      .append()));
      // The provider's failing write, at-least-once and exactly-once.
      for (Map<String, String> delivery :
          List.of(
              Map.<String, String>of(),
              Map.of("delivery", "exactly-once", "transactionalIdPrefix", "secrets-it"))) {
        seen.append(
            failure(
                () ->
                    spark
                        .sql("SELECT 'k' AS key, 'v' AS value, 9 AS partition")
                        .write()
                        .format("tessera-kafka")
                        .option("kafka.bootstrap.servers", broker.bootstrapServers())
                        .option("kafka.sasl.jaas.config", kafkaSecrets)
                        .options(delivery)
                        .option("topic", topic)
                        .mode("append")
                        .save()));
      }

      // The SQL tab: every execution's description and physical plan.
      List<SQLExecutionUIData> executions =
          scala.jdk.javaapi.CollectionConverters.asJava(
              spark.sharedState().statusStore().executionsList());
      assertThat(executions).as("executions recorded for the SQL tab").isNotEmpty();
      for (SQLExecutionUIData e : executions) {
        seen.append(e.description()).append('\n').append(e.physicalPlanDescription()).append('\n');
      }
    } finally {
      before.forEach(
          (logger, level) -> {
            logger.removeAppender("secrets-capture");
            logger.setLevel(level);
          });
      ctx.updateLoggers();
    }
    synchronized (logLines) {
      assertThat(logLines).as("log lines captured").hasSizeGreaterThan(10);
      seen.append(String.join("\n", logLines));
    }
    String all = seen.toString();
    // The checks can fail: the text holds what was configured, by name, just not the values.
    assertThat(all).contains("sasl.jaas.config").contains("sec_pg").contains("copy_id_positive");
    // Loggers that the test configuration quiets were captured too.
    assertThat(all)
        .contains("ProducerConfig values")
        .contains("org.apache.spark.scheduler.TaskSetManager: Lost task");
    for (String secret : SECRETS) {
      assertThat(all).as("text containing %s", secret).doesNotContain(secret);
    }
  }

  private static void catalog(
      SparkSession spark, String name, String url, String user, String password) {
    spark.conf().set("spark.sql.catalog." + name, "io.tessera.jdbc.JdbcCatalog");
    spark.conf().set("spark.sql.catalog." + name + ".url", url);
    spark.conf().set("spark.sql.catalog." + name + ".user", user);
    if (password != null) {
      spark.conf().set("spark.sql.catalog." + name + ".password", password);
    }
  }

  private static List<LoggerConfig> allLoggerConfigs(Configuration config) {
    List<LoggerConfig> all = new ArrayList<>(config.getLoggers().values());
    if (!all.contains(config.getRootLogger())) {
      all.add(config.getRootLogger());
    }
    return all;
  }

  private static String explain(SparkSession spark, String sql) {
    return rowsText(spark.sql("EXPLAIN EXTENDED " + sql).collectAsList());
  }

  private static String rowsText(List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    rows.forEach(r -> sb.append(r.mkString(" | ")).append('\n'));
    return sb.toString();
  }

  interface Action {
    void run() throws Exception;
  }

  private static String failure(Action a) {
    try {
      a.run();
    } catch (Throwable t) {
      return stackTrace(t);
    }
    throw new AssertionError("expected a failure");
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }
}
