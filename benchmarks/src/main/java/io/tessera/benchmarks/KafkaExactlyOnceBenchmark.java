package io.tessera.benchmarks;

import io.tessera.testing.KafkaBroker;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * delivery=exactly-once against Tessera's at-least-once and Spark's {@code format("kafka")}, all
 * three at the same producer settings (linger.ms=10, batch.size=262144, acks=all, idempotence), on
 * N records (10-byte key, 100-byte value) from as many Spark partitions as the topic has (2 or 8),
 * on {@code local[2]} and the in-process broker. The exactly-once runs are verified by reading
 * every record with a read_committed consumer.
 */
final class KafkaExactlyOnceBenchmark {
  private static final AtomicInteger PREFIX = new AtomicInteger();

  private KafkaExactlyOnceBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long records, int rounds, int partitions)
      throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String servers = broker.bootstrapServers();
    Dataset<Row> df = KafkaBenchmark.records(spark, records, partitions);
    List<Contender> contenders =
        List.of(
            KafkaBenchmark.contender(
                "Spark format(kafka), linger.ms=10 batch.size=262144 acks=all",
                broker,
                partitions,
                "read_uncommitted",
                topic ->
                    df.write()
                        .format("kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("kafka.linger.ms", "10")
                        .option("kafka.batch.size", "262144")
                        .option("kafka.acks", "all")
                        .option("kafka.enable.idempotence", "true")
                        .option("topic", topic)
                        .save()),
            KafkaBenchmark.contender(
                "Tessera at-least-once (its defaults: the same settings)",
                broker,
                partitions,
                "read_uncommitted",
                topic ->
                    df.write()
                        .format("tessera-kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("topic", topic)
                        .mode("append")
                        .save()),
            KafkaBenchmark.contender(
                "Tessera exactly-once (the same settings, one transaction per task)",
                broker,
                partitions,
                "read_committed",
                topic ->
                    df.write()
                        .format("tessera-kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("delivery", "exactly-once")
                        .option("transactionalIdPrefix", "bench-" + PREFIX.incrementAndGet())
                        .option("topic", topic)
                        .mode("append")
                        .save()));
    try {
      return BenchmarkRunner.run(
          String.format(
              "Kafka exactly-once, %,d records (10-byte key, 100-byte value), %d partitions,"
                  + " local[2]",
              records, partitions),
          records,
          rounds,
          contenders);
    } finally {
      df.unpersist();
    }
  }
}
