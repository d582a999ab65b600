package io.tessera.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The safety rules of the Kafka connector on the real broker: topics are not deleted by accident,
 * rows go to the table's topic, producer settings are checked on the driver, producers are pooled,
 * bad rows fail clearly, tombstones and update mode work, and failed sends leave exactly the
 * records that were acknowledged.
 */
class KafkaSafetyIT {
  static SparkSession spark;
  static KafkaBroker broker;
  String catalog;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    broker = KafkaBroker.shared();
  }

  @BeforeEach
  void registerCatalog() {
    catalog = registerCatalog(Map.of());
  }

  String registerCatalog(Map<String, String> extra) {
    String name = Names.unique("kafka");
    spark.conf().set("spark.sql.catalog." + name, KafkaCatalog.class.getName());
    spark.conf().set("spark.sql.catalog." + name + ".bootstrap.servers", broker.bootstrapServers());
    extra.forEach((k, v) -> spark.conf().set("spark.sql.catalog." + name + "." + k, v));
    return name;
  }

  String table(String topic) {
    return catalog + ".`" + topic + "`";
  }

  List<String> values(String topic) {
    return broker.readAll(topic, "read_uncommitted").stream()
        .map(r -> r.value() == null ? null : new String(r.value(), UTF_8))
        .sorted()
        .toList();
  }

  Dataset<Row> rows(long n, String... select) {
    return spark.range(0, n, 1, 1).selectExpr(select);
  }

  void save(Dataset<Row> df, Map<String, String> options) {
    Map<String, String> all = new HashMap<>(options);
    all.putIfAbsent("kafka.bootstrap.servers", broker.bootstrapServers());
    df.write().format("tessera-kafka").options(all).mode("append").save();
  }

  /** The error came from planning on the driver: no task ran. */
  static void thrownOnTheDriver(Throwable t) {
    java.io.StringWriter trace = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(trace));
    assertThat(trace.toString())
        .contains("io.tessera.kafka.KafkaWriteBuilder.build")
        .doesNotContain("org.apache.spark.executor.Executor$TaskRunner");
  }

  boolean topicListed(String topic) throws Exception {
    return broker.admin().listTopics().names().get().contains(topic);
  }

  // ---- item 1: DROP TABLE deletes a topic only with the catalog's opt-in ---------------------

  @Test
  void dropTableIsRefusedUnlessTheCatalogAllowsIt() throws Exception {
    String topic = broker.newTopic("keep", 1);
    rows(3, "cast(id as string) as value").writeTo(table(topic)).append();

    assertThatThrownBy(() -> spark.sql("DROP TABLE " + table(topic)))
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE]")
        .hasMessageContaining("would delete Kafka topic '" + topic + "'")
        .hasMessageContaining("spark.sql.catalog." + catalog + ".allowDropTopic=true");
    assertThatThrownBy(() -> spark.sql("DROP TABLE IF EXISTS " + table(topic)))
        .hasMessageContaining("allowDropTopic=true");
    assertThat(topicListed(topic)).isTrue();
    assertThat(values(topic)).containsExactly("0", "1", "2");

    // A missing topic is not an error for IF EXISTS, with or without the opt-in.
    spark.sql("DROP TABLE IF EXISTS " + catalog + ".`" + Names.unique("missing") + "`");

    String dropping = registerCatalog(Map.of("allowDropTopic", "true"));
    spark.sql("DROP TABLE " + dropping + ".`" + topic + "`");
    await().atMost(Duration.ofSeconds(30)).until(() -> !topicListed(topic));
  }

  @Test
  void readingAKafkaTableFailsWithSparksError() {
    String topic = broker.newTopic("writeonly", 1);
    assertThatThrownBy(() -> spark.table(table(topic)).collectAsList())
        .hasMessageContaining("does not support batch scan");
  }

  // ---- item 2: routing --------------------------------------------------------------------

  @Test
  void catalogTableRefusesATopicColumnAndATopicOption() throws Exception {
    String target = broker.newTopic("target", 1);
    String source = broker.newTopic("source", 1);
    Dataset<Row> mirrored = rows(3, "cast(id as string) as value", "'" + source + "' as topic");
    assertThatThrownBy(() -> mirrored.writeTo(table(target)).append())
        .hasMessageContaining("[SCHEMA_MISMATCH]")
        .hasMessageContaining("Column 'topic' cannot be written to table")
        .hasMessageContaining("goes to topic '" + target + "'");
    assertThatThrownBy(
            () ->
                rows(3, "cast(id as string) as value")
                    .writeTo(table(target))
                    .option("topic", source)
                    .append())
        .hasMessageContaining("Option 'topic' has value '" + source + "'")
        .hasMessageContaining("remove the option");
    assertThat(values(target)).isEmpty();
    assertThat(values(source)).isEmpty();
  }

  @Test
  void providerRefusesATopicOptionTogetherWithATopicColumn() {
    String a = broker.newTopic("opt", 1);
    String b = broker.newTopic("col", 1);
    assertThatThrownBy(
            () ->
                save(
                    rows(3, "cast(id as string) as value", "'" + b + "' as topic"),
                    Map.of("topic", a)))
        .hasMessageContaining("Option 'topic' ('" + a + "') and column 'topic' are both given");
    assertThat(values(a)).isEmpty();
    assertThat(values(b)).isEmpty();
  }

  // ---- item 3: producer settings checked on the driver -----------------------------------

  @Test
  void producerSettingsThatVoidTheGuaranteeOrAreMisspelledFailOnTheDriver() {
    String topic = broker.newTopic("settings", 1);
    Map<String, String> cases = new TreeMap<>();
    cases.put("kafka.acks", "1");
    cases.put("kafka.enable.idempotence", "false");
    cases.put("kafka.retries", "0");
    cases.put("kafka.transactional.id", "mine");
    cases.put("kafka.value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    Map<String, String> expected = new HashMap<>();
    expected.put("kafka.acks", "Kafka setting 'kafka.acks' = '1' is refused: a record counts");
    expected.put("kafka.enable.idempotence", "'kafka.enable.idempotence' = 'false' is refused");
    expected.put("kafka.retries", "'kafka.retries' = '0' is refused");
    expected.put("kafka.transactional.id", "every task would share this transactional.id");
    expected.put("kafka.value.serializer", "serialize in the query instead");
    cases.forEach(
        (key, value) ->
            assertThatThrownBy(
                    () -> save(rows(3, "'v' as value"), Map.of("topic", topic, key, value)))
                .as(key)
                .satisfies(KafkaSafetyIT::thrownOnTheDriver)
                .hasMessageContaining("[INVALID_OPTION_VALUE]")
                .hasMessageContaining(expected.get(key)));

    assertThatThrownBy(
            () -> save(rows(3, "'v' as value"), Map.of("topic", topic, "kafka.Linger.ms", "5")))
        .satisfies(KafkaSafetyIT::thrownOnTheDriver)
        .hasMessageContaining(
            "Unknown Kafka setting 'kafka.Linger.ms'; did you mean 'kafka.linger.ms'?");
    assertThatThrownBy(
            () -> save(rows(3, "'v' as value"), Map.of("topic", topic, "kafka.batchsize", "5")))
        .hasMessageContaining("did you mean 'kafka.batch.size'?");
    assertThatThrownBy(
            () -> save(rows(3, "'v' as value"), Map.of("topic", topic, "kafka.linger.ms", "soon")))
        .satisfies(KafkaSafetyIT::thrownOnTheDriver)
        .hasMessageContaining("Invalid value soon for configuration linger.ms")
        .hasMessageContaining("check option 'kafka.linger.ms'");
    // "acks=all" spelled as Kafka's -1 is the same setting, and a plugin's own key passes.
    save(
        rows(3, "'ok' as value"),
        Map.of("topic", topic, "kafka.acks", "-1", "kafka.my.plugin.setting", "x"));
    assertThat(values(topic)).containsExactly("ok", "ok", "ok");
  }

  // ---- item 4: pooled producers -----------------------------------------------------------

  @Test
  void streamingEpochsShareOneProducerPerExecutor() throws Exception {
    int epochs = Integer.getInteger("tessera.kafka.poolEpochs", 30);
    String topic = broker.newTopic("pool", 2);
    StreamingQuery q =
        spark
            .readStream()
            .format("rate-micro-batch")
            .option("rowsPerBatch", "20")
            .option("numPartitions", "2")
            .load()
            .selectExpr("cast(value as string) as value")
            .writeStream()
            .format("tessera-kafka")
            .option("kafka.bootstrap.servers", broker.bootstrapServers())
            .option("topic", topic)
            .option("checkpointLocation", TestPaths.newFolder("pool-ckpt").toString())
            .trigger(Trigger.ProcessingTime("10 milliseconds"))
            .start();
    try {
      await()
          .atMost(Duration.ofSeconds(Math.max(120, epochs)))
          .until(() -> q.lastProgress() != null && q.lastProgress().batchId() >= epochs);
    } finally {
      q.stop();
    }
    List<TopicPartition> partitions =
        List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
    Set<Long> producerIds = new HashSet<>();
    broker
        .admin()
        .describeProducers(partitions)
        .all()
        .get()
        .values()
        .forEach(
            s ->
                s.activeProducers().stream()
                    .map(ProducerState::producerId)
                    .forEach(producerIds::add));
    long records = values(topic).size();
    System.out.println(
        "producer pool: "
            + (q.lastProgress().batchId() + 1)
            + " epochs, "
            + records
            + " records, "
            + producerIds.size()
            + " producer ids wrote to the topic");
    assertThat(records).isGreaterThanOrEqualTo(epochs);
    assertThat(producerIds).hasSize(1);
  }

  @Test
  void emptyPartitionsCreateNoProducer() throws Exception {
    String topic = broker.newTopic("empty", 1);
    // A client.id of its own makes this write's producer configuration unique in the pool.
    Map<String, String> options = Map.of("topic", topic, "kafka.client.id", Names.unique("c"));
    long before = ProducerPool.createdCount();
    save(spark.range(0, 0, 1, 4).selectExpr("cast(id as string) as value"), options);
    assertThat(ProducerPool.createdCount()).isEqualTo(before);
    // Four non-empty partitions share one producer.
    save(spark.range(0, 40, 1, 4).selectExpr("cast(id as string) as value"), options);
    assertThat(ProducerPool.createdCount()).isEqualTo(before + 1);
    assertThat(values(topic)).hasSize(40);
  }

  // ---- item 5: tombstones and streaming update mode --------------------------------------

  @Test
  void nullValuesAreSentAsTombstones() throws Exception {
    String topic = broker.newTopic("tomb", 1);
    rows(4, "cast(id as string) as key", "if(id % 2 = 0, null, 'live') as value")
        .writeTo(table(topic))
        .append();
    Map<String, String> byKey = new TreeMap<>();
    broker
        .readAll(topic, "read_uncommitted")
        .forEach(
            r -> byKey.put(new String(r.key(), UTF_8), r.value() == null ? "<tombstone>" : "live"));
    assertThat(byKey)
        .isEqualTo(
            new TreeMap<>(
                Map.of("0", "<tombstone>", "1", "live", "2", "<tombstone>", "3", "live")));
  }

  @Test
  void streamingUpdateModeSendsEachUpdatedRow() throws Exception {
    String topic = broker.newTopic("update", 1);
    java.nio.file.Path input = TestPaths.newFolder("update-in");
    java.nio.file.Files.writeString(
        input.resolve("1.json"), "{\"k\":\"a\"}\n{\"k\":\"a\"}\n{\"k\":\"b\"}\n");
    StreamingQuery q =
        spark
            .readStream()
            .schema("k STRING")
            .json(input.toString())
            .groupBy("k")
            .count()
            .selectExpr("k as key", "cast(count as string) as value")
            .writeStream()
            .outputMode(OutputMode.Update())
            .format("tessera-kafka")
            .option("kafka.bootstrap.servers", broker.bootstrapServers())
            .option("topic", topic)
            .option("checkpointLocation", TestPaths.newFolder("update-ckpt").toString())
            .start();
    try {
      q.processAllAvailable();
      java.nio.file.Files.writeString(input.resolve("2.json"), "{\"k\":\"b\"}\n{\"k\":\"c\"}\n");
      q.processAllAvailable();
    } finally {
      q.stop();
    }
    // Each micro-batch sends the keys whose count changed, with the new count.
    List<String> records =
        broker.readAll(topic, "read_uncommitted").stream()
            .map(r -> new String(r.key(), UTF_8) + "=" + new String(r.value(), UTF_8))
            .sorted()
            .toList();
    assertThat(records).containsExactly("a=2", "b=1", "b=2", "c=1");
  }

  // ---- item 6: bad rows ------------------------------------------------------------------

  @Test
  void badRowsFailFastNamingColumnAndValue() throws Exception {
    String topic = broker.newTopic("badrows", 2);
    Map<String, String> to = Map.of("topic", topic, "kafka.max.block.ms", "600000");
    assertThatThrownBy(() -> save(rows(3, "'v' as value", "if(id = 2, 5, 0) as partition"), to))
        .hasStackTraceContaining(
            "Column 'partition' has value 5 in a row for topic '" + topic + "'")
        .hasStackTraceContaining("has 2 partitions (0..1)");
    assertThatThrownBy(() -> save(rows(3, "'v' as value", "-1 as partition"), to))
        .hasStackTraceContaining("Column 'partition' has value -1")
        .hasStackTraceContaining("partitions are numbered from 0");
    assertThatThrownBy(
            () -> save(rows(3, "'v' as value", "timestamp_millis(-1000) as timestamp"), to))
        .hasStackTraceContaining("Column 'timestamp' has value 1969-12-31T23:59:59Z")
        .hasStackTraceContaining("start at 1970-01-01T00:00:00Z");
    assertThatThrownBy(
            () ->
                save(
                    rows(
                        3,
                        "'v' as value",
                        "array(named_struct('key', cast(null as string), 'value', cast('x' as"
                            + " binary))) as headers"),
                    to))
        .hasStackTraceContaining("Column 'headers' has value a header with a null key at index 0");
    assertThatThrownBy(
            () ->
                save(
                    rows(
                        3,
                        "'v' as value",
                        "array(named_struct('key', 'a', 'value', cast('x' as binary)), null) as"
                            + " headers"),
                    to))
        .hasStackTraceContaining("Column 'headers' has value null at index 1");
    // None of these waited for metadata: the writes above ran with kafka.max.block.ms=600000,
    // so a metadata wait would have hung the test instead of failing it with these messages.
    // Rows before a bad one are sent (at-least-once, no buffering): rows 0 and 1 of the first
    // case, once per task attempt (local[2,2]); every other case failed on its first row.
    assertThat(values(topic)).containsExactly("v", "v", "v", "v");

    String missing = Names.unique("missing");
    assertThatThrownBy(() -> save(rows(3, "'v' as value"), Map.of("topic", missing)))
        .satisfies(KafkaSafetyIT::thrownOnTheDriver)
        .hasMessageContaining("Option 'topic' names topic '" + missing + "', which does not exist")
        .hasMessageContaining("Nothing was sent");
    assertThat(topicListed(missing)).isFalse();
  }

  // ---- item 7: catalog details -----------------------------------------------------------

  @Test
  void createTableChecksPropertiesAndDescribeShowsTheTopic() throws Exception {
    String topic = Names.unique("described");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE " + table(topic) + " (value STRING) TBLPROPERTIES (partitons=3)"))
        .hasMessageContaining("Unknown table property 'partitons'")
        .hasMessageContaining("did you mean 'partitions'?");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE "
                        + table(topic)
                        + " (value STRING) TBLPROPERTIES ('config.retention.msec'='1000')"))
        .hasMessageContaining("did you mean 'config.retention.ms'?");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE "
                        + table(topic)
                        + " (value STRING) TBLPROPERTIES (replication=3)"))
        .hasMessageContaining("[INVALID_OPTION_VALUE]")
        .hasMessageContaining("Table property 'replication' = '3' was refused by Kafka")
        .hasMessageContaining("use at most the number of brokers");
    assertThat(topicListed(topic)).isFalse();

    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE " + table(topic) + " (value STRING) LOCATION '/tmp/somewhere'"))
        .hasMessageContaining("Table property 'location' = ")
        .hasMessageContaining("Remove LOCATION");
    // What Spark adds itself (provider, comment, owner) is accepted.
    String other = Names.unique("withusing");
    spark.sql(
        "CREATE TABLE "
            + table(other)
            + " (value STRING) USING kafka COMMENT 'c' TBLPROPERTIES"
            + " (partitions=1)");
    assertThat(topicListed(other)).isTrue();
    spark
        .range(3)
        .selectExpr("cast(id as string) as value")
        .write()
        .saveAsTable(table(Names.unique("saved")));

    spark.sql(
        "CREATE TABLE "
            + table(topic)
            + " (value STRING) TBLPROPERTIES (partitions=3, replication=1,"
            + " 'config.retention.ms'='3600000', 'config.cleanup.policy'='compact')");
    // Written right after creation: every partition already has a leader.
    rows(
            30,
            "cast(id as string) as key",
            "cast(id as string) as value",
            "cast(id % 3 as int) as partition")
        .writeTo(table(topic))
        .append();
    assertThat(values(topic)).hasSize(30);

    Map<String, String> described = new TreeMap<>();
    for (Row r : spark.sql("DESCRIBE TABLE EXTENDED " + table(topic)).collectAsList()) {
      described.put(r.getString(0), r.getString(1));
    }
    assertThat(described.get("Table Properties"))
        .contains("config.cleanup.policy=compact")
        .contains("config.retention.ms=3600000")
        .contains("partitions=3")
        .contains("replication=1");
  }

  @Test
  void unreachableBrokersAreReportedAsSuch() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String unreachable = Names.unique("kafka");
    spark.conf().set("spark.sql.catalog." + unreachable, KafkaCatalog.class.getName());
    spark
        .conf()
        .set("spark.sql.catalog." + unreachable + ".bootstrap.servers", "127.0.0.1:" + closedPort);
    spark.conf().set("spark.sql.catalog." + unreachable + ".kafka.default.api.timeout.ms", "2000");
    spark.conf().set("spark.sql.catalog." + unreachable + ".kafka.request.timeout.ms", "1000");
    assertThatThrownBy(
            () ->
                spark.sql(
                    "CREATE TABLE "
                        + unreachable
                        + ".t (value STRING) TBLPROPERTIES (partitions=1)"))
        .hasMessageContaining("[CONNECTION_FAILED]")
        .hasMessageContaining("cannot reach the Kafka brokers 127.0.0.1:" + closedPort);
  }

  // ---- item 9: metrics and secrets -------------------------------------------------------

  @Test
  void secretsAreRedactedButLocationsAreShown() {
    String topic = broker.newTopic("redact", 1);
    String secretive =
        registerCatalog(
            Map.of(
                "kafka.basic.auth.user.info", "alice:s3cr3t-user-info",
                "kafka.ssl.keystore.location", "/etc/keys/client.jks",
                "kafka.sasl.jaas.config", "x required password=\"jaas-pw-123\";"));
    String plan =
        spark
            .sql(
                "EXPLAIN EXTENDED INSERT INTO "
                    + secretive
                    + ".`"
                    + topic
                    + "` SELECT 'v' AS value")
            .first()
            .getString(0);
    assertThat(plan)
        .contains("tessera-kafka[")
        .contains("/etc/keys/client.jks")
        .doesNotContain("s3cr3t-user-info")
        .doesNotContain("jaas-pw-123");
  }

  // ---- item 10: send failures ------------------------------------------------------------

  @Test
  void aRecordTooLargeFailsTheJobAndLeavesExactlyTheRecordsSentBeforeIt() throws Exception {
    String topic = broker.newTopic("toolarge", 1);
    Dataset<Row> df =
        spark
            .range(0, 100, 1, 1)
            .selectExpr("if(id = 50, repeat('x', 20000), cast(id as string)) as value");
    assertThatThrownBy(
            () ->
                save(
                    df,
                    Map.of(
                        "topic", topic, "kafka.max.request.size", "10000", "kafka.linger.ms", "0")))
        .hasStackTraceContaining("[SEND_FAILED]")
        .hasStackTraceContaining("RecordTooLargeException")
        .hasStackTraceContaining("larger than kafka.max.request.size");
    // Both attempts of the task (local[2,2]) sent records 0..49, had them acknowledged, then
    // failed on record 50; nothing after it was sent.
    List<String> expected = new ArrayList<>();
    IntStream.range(0, 50)
        .forEach(i -> expected.addAll(List.of(String.valueOf(i), String.valueOf(i))));
    await().atMost(Duration.ofSeconds(30)).until(() -> values(topic).size() >= 100);
    assertThat(values(topic)).isEqualTo(expected.stream().sorted().toList());
  }

  static volatile KafkaBroker brokerToStop;

  @Test
  void aBrokerStoppedMidWriteFailsTheJobAndLeavesAnUnbrokenPrefix() throws Exception {
    KafkaBroker own = KafkaBroker.startPrivate();
    KafkaBroker restarted = null;
    try {
      String topic = own.newTopic("stopped", 1);
      brokerToStop = own;
      spark
          .udf()
          .register(
              "stop_broker_at",
              (org.apache.spark.sql.api.java.UDF2<Long, Long, Long>)
                  (id, at) -> {
                    if (id.equals(at) && org.apache.spark.TaskContext.get().attemptNumber() == 0) {
                      new Thread(() -> brokerToStop.stop(), "stop-broker").start();
                    }
                    return id;
                  },
              org.apache.spark.sql.types.DataTypes.LongType);
      Dataset<Row> df =
          spark
              .range(0, 200_000, 1, 1)
              .selectExpr("cast(stop_broker_at(id, 100000L) as string) as value");
      assertThatThrownBy(
              () ->
                  df.write()
                      .format("tessera-kafka")
                      .option("kafka.bootstrap.servers", own.bootstrapServers())
                      .option("topic", topic)
                      .option("kafka.linger.ms", "0")
                      .option("kafka.request.timeout.ms", "1000")
                      .option("kafka.delivery.timeout.ms", "4000")
                      .option("kafka.max.block.ms", "3000")
                      .mode("append")
                      .save())
          .hasStackTraceContaining("[SEND_FAILED]");
      // The retired producer gives up on its records within delivery.timeout.ms; only then
      // restart, so that nothing it still held can arrive afterwards.
      ProducerPool.awaitClosing(Duration.ofSeconds(60));
      restarted = own.restart();
      List<Long> sent =
          restarted.readAll(topic, "read_uncommitted").stream()
              .map(r -> Long.parseLong(new String(r.value(), UTF_8)))
              .sorted()
              .toList();
      System.out.println("broker stopped mid-write: " + sent.size() + " records kept");
      // One partition, an idempotent producer: what Kafka kept is the first k rows, each once,
      // with no gap; the second attempt (broker down) sent nothing.
      assertThat(sent).isNotEmpty().hasSizeLessThan(200_000);
      assertThat(sent).isEqualTo(LongStream.range(0, sent.size()).boxed().toList());
    } finally {
      if (restarted != null) {
        restarted.stop();
      }
      own.stop();
    }
  }

  // ---- item 11: Spark's compression libraries ---------------------------------------------

  @Test
  void everyCompressionCodecWorksWithSparksLibraries() throws Exception {
    for (String codec : List.of("zstd", "lz4", "snappy", "gzip")) {
      String topic = broker.newTopic("codec-" + codec, 1);
      save(
          spark.range(0, 200, 1, 2).selectExpr("concat('record-', id) as value"),
          Map.of("topic", topic, "kafka.compression.type", codec));
      assertThat(values(topic))
          .as(codec)
          .isEqualTo(LongStream.range(0, 200).mapToObj(i -> "record-" + i).sorted().toList());
    }
  }
}
