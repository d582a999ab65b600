package io.tessera.benchmarks;

import io.tessera.testing.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * N records (10-byte key, 100-byte value) into a 4-partition topic on an in-process broker, from
 * {@code local[2]}: Spark's own {@code format("kafka")} sink at its defaults and with linger.ms=10
 * / batch.size=262144, against Tessera at its defaults (which are those settings) and at Kafka's
 * producer defaults. Every run writes a fresh topic and is verified by its end offsets.
 */
final class KafkaBenchmark {
  private static final AtomicInteger RUN = new AtomicInteger();

  private KafkaBenchmark() {}

  static BenchmarkRunner.Result run(SparkSession spark, long records, int rounds) throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String servers = broker.bootstrapServers();
    Dataset<Row> df = records(spark, records, 2);
    List<Contender> contenders =
        List.of(
            contender(
                "Spark format(kafka), Kafka producer defaults",
                broker,
                topic ->
                    df.write()
                        .format("kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("topic", topic)
                        .save()),
            contender(
                "Spark format(kafka), linger.ms=10 batch.size=262144",
                broker,
                topic ->
                    df.write()
                        .format("kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("kafka.linger.ms", "10")
                        .option("kafka.batch.size", "262144")
                        .option("topic", topic)
                        .save()),
            contender(
                "Tessera, Kafka producer defaults (linger.ms=0 batch.size=16384)",
                broker,
                topic ->
                    df.write()
                        .format("tessera-kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("kafka.linger.ms", "0")
                        .option("kafka.batch.size", "16384")
                        .option("kafka.buffer.memory", "33554432")
                        .option("topic", topic)
                        .mode("append")
                        .save()),
            contender(
                "Reference: plain KafkaProducer, 2 threads, linger.ms=10 batch.size=262144, no Spark",
                broker,
                topic -> plainProducer(broker, topic, records)),
            contender(
                "Tessera defaults (linger.ms=10 batch.size=262144)",
                broker,
                topic ->
                    df.write()
                        .format("tessera-kafka")
                        .option("kafka.bootstrap.servers", servers)
                        .option("topic", topic)
                        .mode("append")
                        .save()));
    try {
      return BenchmarkRunner.run(
          String.format(
              "Kafka, %,d records (10-byte key, 100-byte value), 4 partitions, local[2]", records),
          records,
          rounds,
          contenders);
    } finally {
      df.unpersist();
    }
  }

  /** N records (10-byte key, 100-byte value) in {@code partitions} partitions, cached. */
  static Dataset<Row> records(SparkSession spark, long records, int partitions) {
    Dataset<Row> df =
        spark
            .range(0, records, 1, partitions)
            .selectExpr(
                "lpad(cast(id as string), 10, '0') as key",
                "concat(repeat('x', 90), lpad(cast(id as string), 10, '0')) as value")
            .cache();
    df.count();
    return df;
  }

  /** The same records from two plain producer threads: what the broker can take. */
  static void plainProducer(KafkaBroker broker, String topic, long records) throws Exception {
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        long from = t * records / 2;
        long to = (t + 1) * records / 2;
        parts.add(
            pool.submit(
                () -> {
                  Map<String, Object> config = broker.producerConfig();
                  config.put("linger.ms", "10");
                  config.put("batch.size", "262144");
                  config.put("buffer.memory", "67108864");
                  config.put("acks", "all");
                  config.put("enable.idempotence", "true");
                  byte[] x = "x".repeat(90).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                  try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer =
                      new org.apache.kafka.clients.producer.KafkaProducer<>(config)) {
                    for (long id = from; id < to; id++) {
                      byte[] key = pad10(id);
                      byte[] value = new byte[100];
                      System.arraycopy(x, 0, value, 0, 90);
                      System.arraycopy(key, 0, value, 90, 10);
                      producer.send(
                          new org.apache.kafka.clients.producer.ProducerRecord<>(
                              topic, key, value));
                    }
                    producer.flush();
                  }
                  return null;
                }));
      }
      for (java.util.concurrent.Future<?> f : parts) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static byte[] pad10(long id) {
    byte[] b = new byte[10];
    long v = id;
    for (int i = 9; i >= 0; i--) {
      b[i] = (byte) ('0' + (v % 10));
      v /= 10;
    }
    return b;
  }

  interface Body {
    void write(String topic) throws Exception;
  }

  private static Contender contender(String name, KafkaBroker broker, Body body) {
    return contender(name, broker, 4, "read_uncommitted", body);
  }

  /**
   * A contender writing a fresh topic of {@code partitions} partitions per run, verified by what a
   * consumer with {@code isolation} can read: for read_uncommitted the end offsets; for
   * read_committed every record is read (a transaction's marker takes an offset too).
   */
  static Contender contender(
      String name, KafkaBroker broker, int partitions, String isolation, Body body) {
    return new Contender() {
      private String topic;

      @Override
      public String name() {
        return name;
      }

      @Override
      public void reset() {
        topic = "bench-" + RUN.incrementAndGet() + "-" + System.nanoTime();
        broker.createTopic(topic, partitions);
      }

      @Override
      public void run() throws Exception {
        body.write(topic);
      }

      @Override
      public long count() {
        if (isolation.equals("read_committed")) {
          try {
            return broker.readAll(topic, isolation).size();
          } finally {
            broker.admin().deleteTopics(List.of(topic));
          }
        }
        try (KafkaConsumer<byte[], byte[]> c = broker.consumer(isolation)) {
          List<TopicPartition> parts = new ArrayList<>();
          IntStream.range(0, partitions).forEach(p -> parts.add(new TopicPartition(topic, p)));
          Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
          return end.values().stream().mapToLong(Long::longValue).sum();
        } finally {
          broker.admin().deleteTopics(List.of(topic));
        }
      }
    };
  }
}
