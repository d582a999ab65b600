package io.tessera.kafka;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.FaultInjection;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CTAS creates a topic (and deletes only that topic on failure); every replace is refused. */
class KafkaStagingIT {
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
  }

  static Dataset<Row> values(long from, long to) {
    return spark.range(from, to, 1, 2).selectExpr("concat('v', id) as value");
  }

  static List<String> expected(long from, long to) {
    return LongStream.range(from, to).mapToObj(i -> "v" + i).sorted().toList();
  }

  List<String> read(String topic) {
    return broker.readAll(topic, "read_uncommitted").stream()
        .map(r -> new String(r.value(), UTF_8))
        .sorted()
        .toList();
  }

  boolean topicExists(String topic) throws Exception {
    return broker.admin().listTopics().names().get().contains(topic);
  }

  String table(String topic) {
    return catalog + ".`" + topic + "`";
  }

  @Test
  void ctasCreatesTheTopicWithExactRecords() throws Exception {
    String t1 = Names.unique("ctas");
    spark.sql(
        "CREATE TABLE "
            + table(t1)
            + " TBLPROPERTIES (partitions=2) AS SELECT concat('v', id) AS value FROM range(40)");
    String t2 = Names.unique("create");
    values(0, 25).writeTo(table(t2)).create();
    String t3 = Names.unique("cor");
    values(0, 7).writeTo(table(t3)).createOrReplace(); // no such topic yet: created

    assertThat(
            broker.admin().describeTopics(List.of(t1)).allTopicNames().get().get(t1).partitions())
        .hasSize(2);
    assertThat(read(t1)).isEqualTo(expected(0, 40));
    assertThat(read(t2)).isEqualTo(expected(0, 25));
    assertThat(read(t3)).isEqualTo(expected(0, 7));
  }

  @Test
  void failingCtasDeletesTheTopicItCreated() throws Exception {
    String topic = Names.unique("failing");
    Dataset<Row> failing =
        spark
            .range(0, 300, 1, 2)
            .selectExpr("fail_always(id, 77L) as id")
            .selectExpr("concat('v', id) as value");

    assertThatThrownBy(() -> failing.writeTo(table(topic)).create())
        .hasStackTraceContaining("injected failure, id 77");
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> !topicExists(topic));
  }

  @Test
  void ctasIntoAnExistingTopicFailsAndNeverDeletesIt() throws Exception {
    String topic = Names.unique("existing");
    broker.createTopic(topic, 1);
    values(0, 5).writeTo(table(topic)).append();

    assertThatThrownBy(() -> values(100, 200).writeTo(table(topic)).create())
        .hasMessageContaining("already exists");
    assertThat(topicExists(topic)).isTrue();
    assertThat(read(topic)).isEqualTo(expected(0, 5));
  }

  @Test
  void everyReplaceOfAnExistingTopicIsRefusedBeforeAnythingHappens() throws Exception {
    String topic = Names.unique("keep");
    broker.createTopic(topic, 1);
    values(0, 10).writeTo(table(topic)).append();
    String t = table(topic);
    String refusal = "of Kafka topic '" + topic + "' is refused";

    assertThatThrownBy(() -> values(50, 60).writeTo(t).replace())
        .hasMessageContaining("[UNSUPPORTED_WRITE_MODE] REPLACE TABLE " + refusal)
        .hasMessageContaining("Nothing was changed");
    assertThatThrownBy(() -> values(50, 60).writeTo(t).createOrReplace())
        .hasMessageContaining("CREATE OR REPLACE TABLE " + refusal);
    assertThatThrownBy(() -> spark.sql("REPLACE TABLE " + t + " AS SELECT 'x' AS value"))
        .hasMessageContaining(refusal);
    assertThatThrownBy(() -> spark.sql("CREATE OR REPLACE TABLE " + t + " AS SELECT 'x' AS value"))
        .hasMessageContaining(refusal);
    assertThatThrownBy(() -> values(50, 60).write().mode(SaveMode.Overwrite).saveAsTable(t))
        .hasMessageContaining(refusal);

    Thread.sleep(500); // a deletion, had one been issued, would be visible by now
    assertThat(topicExists(topic)).isTrue();
    assertThat(read(topic)).isEqualTo(expected(0, 10));
  }
}
