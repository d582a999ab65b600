package io.tessera.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Batch and streaming writes against a real in-process Kafka broker. */
class KafkaWriteIT {
  static SparkSession spark;
  static KafkaBroker broker;
  String catalog;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    broker = KafkaBroker.shared();
    FaultInjection.register(spark);
  }

  @BeforeEach
  void registerCatalog() {
    catalog = Names.unique("kafka");
    spark.conf().set("spark.sql.catalog." + catalog, KafkaCatalog.class.getName());
    spark
        .conf()
        .set("spark.sql.catalog." + catalog + ".bootstrap.servers", broker.bootstrapServers());
    spark.conf().set("spark.sql.catalog." + catalog + ".kafka.sasl.jaas.config", "topsecret-jaas");
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, UTF_8);
  }

  static String describe(ConsumerRecord<byte[], byte[]> r) {
    String headers =
        Arrays.stream(r.headers().toArray())
            .map(h -> h.key() + "=" + text(h.value()))
            .collect(Collectors.joining(";"));
    return r.topic()
        + "/"
        + r.partition()
        + " "
        + text(r.key())
        + "="
        + text(r.value())
        + " ["
        + headers
        + "]";
  }

  static List<String> read(String topic) {
    return broker.readAll(topic, "read_uncommitted").stream()
        .map(KafkaWriteIT::describe)
        .sorted()
        .toList();
  }

  @Test
  void catalogCreatesTopicAndAppendsExactRecordsWithKeysHeadersAndPartitions() throws Exception {
    String topic = Names.unique("events");
    spark.sql(
        "CREATE TABLE " + catalog + ".`" + topic + "` (value STRING) TBLPROPERTIES (partitions=3)");
    assertThat(
            broker
                .admin()
                .describeTopics(List.of(topic))
                .allTopicNames()
                .get()
                .get(topic)
                .partitions())
        .hasSize(3);
    assertThat(
            spark
                .sql("SHOW TABLES IN " + catalog)
                .select("tableName")
                .as(org.apache.spark.sql.Encoders.STRING())
                .collectAsList())
        .contains(topic);

    spark
        .range(0, 30, 1, 3)
        .selectExpr(
            "concat('k', id) as key",
            "concat('v', id) as value",
            "cast(id % 3 as int) as partition",
            "array(named_struct('key', 'h', 'value', cast(concat('x', id) as binary))) as headers")
        .writeTo(catalog + ".`" + topic + "`")
        .append();
    spark.sql(
        "INSERT INTO " + catalog + ".`" + topic + "` SELECT 'sql-value' as value, 2 as partition");

    List<String> expected =
        LongStream.range(0, 30)
            .mapToObj(i -> topic + "/" + (i % 3) + " k" + i + "=v" + i + " [h=x" + i + "]")
            .collect(Collectors.toList());
    expected.add(topic + "/2 null=sql-value []");
    assertThat(read(topic)).isEqualTo(expected.stream().sorted().toList());
  }

  @Test
  void providerWritesToPerRowTopicsWithTimestamps() throws Exception {
    String a = broker.newTopic("a", 2);
    String b = broker.newTopic("b", 1);
    spark
        .range(0, 20, 1, 2)
        .selectExpr(
            "cast(id as string) as value",
            "if(id % 2 = 0, '" + a + "', '" + b + "') as topic",
            "timestamp_millis(1700000000000 + id) as timestamp")
        .write()
        .format("tessera-kafka")
        .option("kafka.bootstrap.servers", broker.bootstrapServers())
        .mode("append")
        .save();

    List<ConsumerRecord<byte[], byte[]>> inA = broker.readAll(a, "read_uncommitted");
    List<ConsumerRecord<byte[], byte[]>> inB = broker.readAll(b, "read_uncommitted");
    assertThat(inA.stream().map(r -> Long.parseLong(text(r.value()))).sorted().toList())
        .containsExactly(0L, 2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L);
    assertThat(inB.stream().map(r -> Long.parseLong(text(r.value()))).sorted().toList())
        .containsExactly(1L, 3L, 5L, 7L, 9L, 11L, 13L, 15L, 17L, 19L);
    assertThat(inA)
        .allMatch(r -> r.timestamp() == 1700000000000L + Long.parseLong(text(r.value())));
  }

  @Test
  void taskFailingOnFirstAttemptStillDeliversEveryRecord() throws Exception {
    String topic = broker.newTopic("retry", 2);
    spark
        .range(0, 2000, 1, 4)
        .selectExpr("cast(fail_first_attempt(id, 1234L) as string) as value")
        .write()
        .format("tessera-kafka")
        .option("kafka.bootstrap.servers", broker.bootstrapServers())
        .option("topic", topic)
        .mode("append")
        .save();

    List<Long> values =
        broker.readAll(topic, "read_uncommitted").stream()
            .map(r -> Long.parseLong(text(r.value())))
            .toList();
    Set<Long> distinct = new TreeSet<>(values);
    assertThat(distinct).hasSize(2000).first().isEqualTo(0L);
    assertThat(distinct).last().isEqualTo(1999L);
    // At-least-once: the failed attempt may have delivered part of its partition (ids 1000..1233).
    long duplicates = values.size() - distinct.size();
    System.out.println("taskFailingOnFirstAttempt: duplicates delivered = " + duplicates);
    assertThat(duplicates).isBetween(0L, 234L);
  }

  @Test
  void streamingRestartFromCheckpointLosesNothing() throws Exception {
    String topic = broker.newTopic("stream", 2);
    String checkpoint = TestPaths.newFolder("ckpt").toString();
    Function<Long, StreamingQuery> startUntil =
        minRows -> {
          try {
            StreamingQuery q =
                spark
                    .readStream()
                    .format("rate")
                    .option("rowsPerSecond", "200")
                    .option("numPartitions", "2")
                    .load()
                    .selectExpr("cast(value as string) as value")
                    .writeStream()
                    .format("tessera-kafka")
                    .option("kafka.bootstrap.servers", broker.bootstrapServers())
                    .option("topic", topic)
                    .option("checkpointLocation", checkpoint)
                    .trigger(Trigger.ProcessingTime("300 milliseconds"))
                    .start();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (broker.readAll(topic, "read_uncommitted").size() < minRows) {
              assertThat(System.nanoTime()).as("streaming progress").isLessThan(deadline);
              Thread.sleep(200);
            }
            q.stop();
            return q;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    startUntil.apply(150L);
    startUntil.apply(broker.readAll(topic, "read_uncommitted").size() + 150L);

    List<Long> values =
        broker.readAll(topic, "read_uncommitted").stream()
            .map(r -> Long.parseLong(text(r.value())))
            .toList();
    TreeSet<Long> distinct = new TreeSet<>(values);
    // The rate source numbers rows 0, 1, 2, ...: every number up to the highest must be present.
    assertThat(distinct.first()).isZero();
    assertThat(distinct).hasSize((int) (distinct.last() + 1));
    System.out.println(
        "streamingRestart: "
            + distinct.size()
            + " distinct rows, duplicates = "
            + (values.size() - distinct.size()));
  }

  @Test
  void unreachableBrokerFailsClearlyWithinTheConfiguredTimeout() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    long start = System.nanoTime();
    assertThatThrownBy(
            () ->
                spark
                    .range(0, 10, 1, 1)
                    .selectExpr("cast(id as string) as value")
                    .write()
                    .format("tessera-kafka")
                    .option("kafka.bootstrap.servers", "127.0.0.1:" + closedPort)
                    .option("kafka.max.block.ms", "1500")
                    .option("topic", "nowhere")
                    .mode("append")
                    .save())
        // The driver's topic check cannot tell (it warns); each task fails after max.block.ms.
        .hasStackTraceContaining("[SEND_FAILED]")
        .hasStackTraceContaining("brokers 127.0.0.1:" + closedPort)
        .hasStackTraceContaining("kafka.max.block.ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
  }

  // ---- hostile input ----------------------------------------------------------------------

  Dataset<Row> rows(String select) {
    return spark.range(0, 3, 1, 1).selectExpr(select.split(";"));
  }

  void save(Dataset<Row> df, Map<String, String> options) {
    Map<String, String> all = new HashMap<>(options);
    all.putIfAbsent("kafka.bootstrap.servers", broker.bootstrapServers());
    df.write().format("tessera-kafka").options(all).mode("append").save();
  }

  @Test
  void badInputFailsBeforeSendingNamingColumnTypeAndFix() {
    String topic = broker.newTopic("hostile", 1);
    Map<String, String> toTopic = Map.of("topic", topic);

    assertThatThrownBy(() -> save(rows("cast(id as string) as key"), toTopic))
        .hasMessageContaining("[SCHEMA_MISMATCH] Column 'value' (STRING or BINARY) is required");
    assertThatThrownBy(() -> save(rows("cast(id as int) as value"), toTopic))
        .hasMessageContaining(
            "Column 'value' has type INT but tessera-kafka needs STRING or BINARY; use cast(value as string)");
    assertThatThrownBy(() -> save(rows("'v' as value;id as partition"), toTopic))
        .hasMessageContaining("Column 'partition' has type BIGINT but tessera-kafka needs INT");
    assertThatThrownBy(() -> save(rows("'v' as value;'x' as valeu"), toTopic))
        .hasMessageContaining("Column 'valeu' is not a Kafka record field");
    assertThatThrownBy(() -> save(rows("'v' as value"), Map.of("topic", "bad topic!")))
        .hasMessageContaining(
            "[INVALID_IDENTIFIER] Topic 'bad topic!' is not a valid Kafka topic name");
    assertThatThrownBy(() -> save(rows("'v' as value"), Map.of()))
        .hasMessageContaining("set option 'topic' or add a 'topic' column");
    assertThatThrownBy(() -> save(rows("'v' as value"), Map.of("topic", topic, "lingerMs", "5")))
        .hasMessageContaining("[UNKNOWN_OPTION] Unknown option 'lingerMs'");
    assertThatThrownBy(
            () -> save(rows("'v' as value"), Map.of("topic", topic, "delivery", "exactly-once")))
        .hasMessageContaining(
            "[MISSING_OPTION] delivery=exactly-once needs option" + " 'transactionalIdPrefix'");
    assertThatThrownBy(
            () ->
                save(
                    rows("'v' as value"),
                    Map.of(
                        "topic",
                        topic,
                        "delivery",
                        "exactly-once",
                        "transactionalIdPrefix",
                        "a.b")))
        .hasMessageContaining("Option 'transactionalIdPrefix' has value 'a.b'")
        .hasMessageContaining("letters, digits, '-' or '_'");
    assertThatThrownBy(
            () -> save(rows("'v' as value"), Map.of("topic", topic, "transactionalIdPrefix", "ab")))
        .hasMessageContaining("set together with delivery=exactly-once");
    assertThat(broker.readAll(topic, "read_uncommitted")).isEmpty();
  }

  @Test
  void nullTopicInARowWithoutDefaultFailsClearly() {
    String topic = broker.newTopic("nulltopic", 1);
    assertThatThrownBy(
            () -> save(rows("'v' as value;if(id = 2, null, '" + topic + "') as topic"), Map.of()))
        .hasStackTraceContaining("A row has a null 'topic' and no default topic is set");
  }

  @Test
  void truncateIsRefusedUnlessAllowedAsNoop() throws Exception {
    String topic = broker.newTopic("trunc", 1);
    String table = catalog + ".`" + topic + "`";
    assertThatThrownBy(
            () ->
                rows("'v' as value")
                    .writeTo(table)
                    .overwrite(org.apache.spark.sql.functions.lit(true)))
        .hasMessageContaining("a Kafka topic cannot be emptied atomically");
    rows("'v' as value")
        .writeTo(table)
        .option("allowTruncateAsNoop", "true")
        .overwrite(org.apache.spark.sql.functions.lit(true));
    assertThat(broker.readAll(topic, "read_uncommitted")).hasSize(3);
  }

  @Test
  void writeReportsRecordsAndBytesAsSqlMetrics() throws Exception {
    String topic = broker.newTopic("metrics", 2);
    Map<String, Long> metrics = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    org.apache.spark.sql.util.QueryExecutionListener listener =
        new org.apache.spark.sql.util.QueryExecutionListener() {
          @Override
          public void onSuccess(
              String f, org.apache.spark.sql.execution.QueryExecution qe, long d) {
            collect(qe.executedPlan());
            done.countDown();
          }

          private void collect(org.apache.spark.sql.execution.SparkPlan plan) {
            scala.jdk.javaapi.CollectionConverters.asJava(plan.metrics())
                .forEach((k, v) -> metrics.put(k, v.value()));
            scala.jdk.javaapi.CollectionConverters.asJava(plan.children()).forEach(this::collect);
          }

          @Override
          public void onFailure(
              String f, org.apache.spark.sql.execution.QueryExecution qe, Exception e) {}
        };
    spark.listenerManager().register(listener);
    try {
      // 500 records with a 4-byte key and a 10-byte value: 7,000 payload bytes.
      spark
          .range(0, 500, 1, 2)
          .selectExpr("'kkkk' as key", "'vvvvvvvvvv' as value")
          .writeTo(catalog + ".`" + topic + "`")
          .append();
      assertThat(done.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      spark.listenerManager().unregister(listener);
    }
    assertThat(metrics)
        .containsEntry(io.tessera.common.metrics.TesseraMetrics.ROWS_WRITTEN, 500L)
        .containsEntry(io.tessera.common.metrics.TesseraMetrics.BYTES_WRITTEN, 7000L)
        .containsEntry(io.tessera.common.metrics.TesseraMetrics.RECORDS_RETRIED, 0L)
        .containsKey(io.tessera.common.metrics.TesseraMetrics.COMMIT_DURATION_MS);
  }

  @Test
  void secretsStayOutOfPlans() {
    String topic = broker.newTopic("plan", 1);
    String plan =
        spark
            .sql("EXPLAIN EXTENDED INSERT INTO " + catalog + ".`" + topic + "` SELECT 'v' as value")
            .first()
            .getString(0);
    assertThat(plan).contains("tessera-kafka[").doesNotContain("topsecret-jaas");
  }
}
