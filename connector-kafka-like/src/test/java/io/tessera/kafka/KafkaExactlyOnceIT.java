package io.tessera.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * delivery=exactly-once against the real in-process broker: every assertion reads the topic with a
 * {@code read_committed} consumer and compares the exact records, key and value.
 */
class KafkaExactlyOnceIT {
  static SparkSession spark;
  static KafkaBroker broker;

  @BeforeAll
  static void start() {
    spark = SharedSpark.session();
    broker = KafkaBroker.shared();
    io.tessera.testing.FaultInjection.register(spark);
  }

  /** key = id, value = 'v-' + id. */
  static Dataset<Row> records(String idExpression, long from, long to, int partitions) {
    return spark
        .range(from, to, 1, partitions)
        .selectExpr(idExpression + " AS id")
        .selectExpr("CAST(id AS STRING) AS key", "concat('v-', id) AS value");
  }

  static List<String> expected(long from, long to) {
    return LongStream.range(from, to).mapToObj(i -> i + "=v-" + i).sorted().toList();
  }

  static List<String> read(String topic, String isolation) {
    return broker.readAll(topic, isolation).stream()
        .map(r -> new String(r.key(), UTF_8) + "=" + new String(r.value(), UTF_8))
        .sorted()
        .toList();
  }

  static Map<String, String> options(String topic, String prefix) {
    Map<String, String> o = new HashMap<>();
    o.put("kafka.bootstrap.servers", broker.bootstrapServers());
    o.put("topic", topic);
    o.put("delivery", "exactly-once");
    o.put("transactionalIdPrefix", prefix);
    return o;
  }

  static void save(Dataset<Row> df, String topic, String prefix) {
    df.write().format("tessera-kafka").options(options(topic, prefix)).mode("append").save();
  }

  static List<String> openTransactions(String prefix) throws Exception {
    return broker
        .admin()
        .listTransactions(
            new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING)))
        .all()
        .get()
        .stream()
        .map(TransactionListing::transactionalId)
        .filter(id -> id.startsWith(prefix + "."))
        .toList();
  }

  @Test
  void aTaskFailingOnItsFirstAttemptDeliversEachRecordOnce() throws Exception {
    String topic = broker.newTopic("eo_first", 4);
    String prefix = Names.unique("first");
    // The last row of partition 0: the failed attempt sent all the others of its partition.
    save(records("fail_first_attempt(id, 499L)", 0, 2000, 4), topic, prefix);

    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 2000));
    assertThat(read(topic, "read_uncommitted").size())
        .as("what the failed attempt had sent of its 499 records stays in the log, aborted")
        .isBetween(2000, 2000 + 499);
    assertThat(openTransactions(prefix)).isEmpty();
  }

  /**
   * Two attempts of one partition both finish (as with a speculative copy); only the one the driver
   * is told about commits, and until then the records are visible to read_uncommitted only.
   */
  @Test
  void whenBothAttemptsOfAPartitionFinishOnlyTheChosenOneIsVisible() throws Exception {
    String topic = broker.newTopic("eo_both", 1);
    String prefix = Names.unique("both");
    Map<String, Object> config =
        KafkaWriteOptions.producerConfig(KafkaWriteOptions.OPTIONS.parse(options(topic, prefix)));
    ExactlyOnceCommitter committer =
        new ExactlyOnceCommitter(
            topic, prefix, KafkaWriteOptions.LEDGER_TOPIC.defaultValue(), config, List.of());
    committer.recover();
    String token = ExactlyOnceCommitter.newToken();
    KafkaCommitMessage[] attempts = new KafkaCommitMessage[2];
    for (int attempt = 0; attempt < 2; attempt++) {
      KafkaDataWriter writer =
          new KafkaDataWriter(
              0,
              topic,
              KafkaSchema.of(
                  new StructType()
                      .add("key", DataTypes.StringType)
                      .add("value", DataTypes.StringType)),
              config,
              List.of(),
              committer.idBase(token) + ".0.0." + attempt);
      for (long i = 0; i < 100; i++) {
        writer.write(
            new GenericInternalRow(
                new Object[] {
                  UTF8String.fromString(String.valueOf(i)), UTF8String.fromString("v-" + i)
                }));
      }
      attempts[attempt] = writer.commit();
      writer.close();
    }
    assertThat(read(topic, "read_uncommitted")).hasSize(200);
    assertThat(read(topic, "read_committed")).as("nothing before the driver commits").isEmpty();
    assertThat(openTransactions(prefix)).hasSize(2);

    committer.commit(token, List.of(attempts[1].transaction()), null, -1, false);

    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 100));
    assertThat(openTransactions(prefix)).as("the other attempt's was aborted").isEmpty();
  }

  @Test
  void aFailedJobShowsNothingAndARerunWithThePrefixDeliversOnce() throws Exception {
    String topic = broker.newTopic("eo_failed", 4);
    String prefix = Names.unique("failed");
    Path flag = Files.createFile(TestPaths.newFolder("eo-failed").resolve("fail"));
    Dataset<Row> df = records("fail_while(id, 1999L, '" + flag + "')", 0, 2000, 4);

    assertThatThrownBy(() -> save(df, topic, prefix)).hasStackTraceContaining("injected");
    assertThat(read(topic, "read_committed")).isEmpty();
    assertThat(read(topic, "read_uncommitted")).as("sent, then aborted").isNotEmpty();
    assertThat(openTransactions(prefix)).isEmpty();

    Files.delete(flag);
    save(df, topic, prefix);
    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 2000));
  }

  @Test
  void aDriverThatDiesMidCommitIsCompletedByTheNextWriteWithThePrefix() throws Exception {
    String topic = broker.newTopic("eo_driver", 4);
    String prefix = Names.unique("driver");
    ExactlyOnceCommitter.failAfterCommitsForTests(1);
    assertThatThrownBy(() -> save(records("id", 0, 2000, 4), topic, prefix))
        .hasStackTraceContaining("injected: the driver stops after committing 1 transactions");
    // Partition 0's transaction is committed; read_committed consumers see its records only up
    // to the first record of a transaction still open in each Kafka partition (maybe none).
    assertThat(read(topic, "read_committed")).isSubsetOf(expected(0, 500));
    assertThat(openTransactions(prefix)).as("the recorded ones wait").hasSize(3);

    save(records("id", 2000, 2010, 2), topic, prefix);
    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 2010));
    assertThat(openTransactions(prefix)).isEmpty();
  }

  private static Dataset<Row> stream(long rowsPerBatch, long lastId) {
    return spark
        .readStream()
        .format("rate-micro-batch")
        .option("rowsPerBatch", rowsPerBatch)
        .option("numPartitions", 2)
        .load()
        .where("value < " + lastId)
        .selectExpr("CAST(value AS STRING) AS key", "concat('v-', value) AS value");
  }

  private static StreamingQuery start(
      Dataset<Row> source, String topic, String prefix, Path checkpoint, String interval)
      throws Exception {
    return source
        .writeStream()
        .format("tessera-kafka")
        .options(options(topic, prefix))
        .option("checkpointLocation", checkpoint.toString())
        .trigger(Trigger.ProcessingTime(interval))
        .start();
  }

  private static void runUntilBatch(StreamingQuery query, long batchId) throws Exception {
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> query.lastProgress() != null && query.lastProgress().batchId() >= batchId);
    query.stop();
  }

  @Test
  void aQueryKilledBetweenTheKafkaCommitAndItsCheckpointIsExactlyOnceAfterRestart()
      throws Exception {
    String topic = broker.newTopic("eo_stream", 2);
    String prefix = Names.unique("stream");
    Path checkpoint = TestPaths.newFolder("eo-stream").resolve("checkpoint");
    // Epochs 0..5 carry rows, later ones none.
    Dataset<Row> source = stream(100, 600);

    KafkaStreamingWrite.failAfterEpochForTests(3);
    StreamingQuery first = start(source, topic, prefix, checkpoint, "200 milliseconds");
    assertThatThrownBy(() -> first.awaitTermination(120_000))
        .hasStackTraceContaining("injected: the query dies after the Kafka commit of epoch 3");
    assertThat(read(topic, "read_committed")).as("epochs 0..3 committed").hasSize(400);

    StreamingQuery second = start(source, topic, prefix, checkpoint, "200 milliseconds");
    runUntilBatch(second, 7);
    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 600));
    assertThat(read(topic, "read_uncommitted"))
        .as("the replayed epoch 3 was sent again and aborted")
        .hasSize(700);
    assertThat(openTransactions(prefix)).isEmpty();
  }

  @Test
  void aProcessingTimeQueryOverTwentyEpochsWithARestartDeliversEachRecordOnce() throws Exception {
    String topic = broker.newTopic("eo_twenty", 2);
    String prefix = Names.unique("twenty");
    Path checkpoint = TestPaths.newFolder("eo-twenty").resolve("checkpoint");
    Dataset<Row> source = stream(20, 20 * 22);

    runUntilBatch(start(source, topic, prefix, checkpoint, "100 milliseconds"), 9);
    runUntilBatch(start(source, topic, prefix, checkpoint, "100 milliseconds"), 22);

    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 20 * 22));
    assertThat(openTransactions(prefix)).isEmpty();
  }

  /**
   * A broker whose transaction state log cannot have its replicas (3 on a one-broker cluster) has
   * no transaction coordinator: the tasks fail with that reason, and nothing is visible.
   */
  @Test
  void brokersThatCannotRunTransactionsFailTheWriteWithTheReason() throws Exception {
    KafkaBroker noTransactions =
        KafkaBroker.startPrivate(Map.of("transaction.state.log.replication.factor", "3"));
    try {
      String topic = noTransactions.newTopic("eo_notxn", 1);
      Map<String, String> o = options(topic, Names.unique("notxn"));
      o.put("kafka.bootstrap.servers", noTransactions.bootstrapServers());
      o.put("kafka.max.block.ms", "2000");
      assertThatThrownBy(
              () ->
                  spark
                      .range(0, 10, 1, 1)
                      .selectExpr("CAST(id AS STRING) AS key", "'v' AS value")
                      .write()
                      .format("tessera-kafka")
                      .options(o)
                      .mode("append")
                      .save())
          .hasStackTraceContaining("[SEND_FAILED] Starting Kafka transaction")
          .hasStackTraceContaining("no transaction coordinator answered")
          .hasStackTraceContaining("transaction.state.log.replication.factor");
      assertThat(noTransactions.readAll(topic, "read_uncommitted")).isEmpty();
    } finally {
      noTransactions.stop();
    }
  }

  @Test
  void theCatalogNeitherListsNorLoadsTheLedgerTopic() throws Exception {
    String topic = broker.newTopic("eo_catalog", 1);
    String catalog = Names.unique("kafka");
    spark.conf().set("spark.sql.catalog." + catalog, KafkaCatalog.class.getName());
    spark
        .conf()
        .set("spark.sql.catalog." + catalog + ".bootstrap.servers", broker.bootstrapServers());
    spark
        .range(0, 3)
        .selectExpr("CAST(id AS STRING) AS key", "concat('v-', id) AS value")
        .writeTo(catalog + ".`" + topic + "`")
        .option("delivery", "exactly-once")
        .option("transactionalIdPrefix", Names.unique("cat"))
        .append();
    assertThat(read(topic, "read_committed")).isEqualTo(expected(0, 3));

    String ledger = KafkaWriteOptions.LEDGER_TOPIC.defaultValue();
    assertThat(broker.admin().listTopics().names().get()).contains(ledger);
    List<String> tables =
        spark.sql("SHOW TABLES IN " + catalog).collectAsList().stream()
            .map(r -> r.getString(1))
            .toList();
    assertThat(tables).contains(topic).doesNotContain(ledger);
    assertThatThrownBy(() -> spark.sql("DESCRIBE TABLE " + catalog + ".`" + ledger + "`"))
        .hasMessageContaining("TABLE_OR_VIEW_NOT_FOUND");
    spark.sql("DROP TABLE IF EXISTS " + catalog + ".`" + ledger + "`");
    assertThat(broker.admin().listTopics().names().get()).contains(ledger);
  }
}
