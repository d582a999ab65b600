package io.tessera.testing;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Time;

/**
 * A real Kafka broker (KRaft, broker and controller in one) running inside the test JVM on
 * 127.0.0.1, started once per JVM on free ports and stopped at JVM exit. Its storage is formatted
 * with Kafka's own storage tool under {@code target/}. Transactions work (replication factor 1).
 */
public final class KafkaBroker {
  private static KafkaBroker shared;

  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Admin admin;
  private final Properties props;
  private boolean stopped;

  private KafkaBroker(KafkaRaftServer server, String bootstrapServers, Properties props) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.props = props;
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    this.admin = Admin.create(p);
  }

  /** The broker of this JVM, started on first use. */
  public static synchronized KafkaBroker shared() {
    if (shared == null) {
      shared = start(Map.of());
      KafkaBroker b = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(b::stop, "kafka-test-broker-stop"));
    }
    return shared;
  }

  private static KafkaBroker start(Map<String, String> overrides) {
    try {
      int brokerPort = freePort();
      int controllerPort = freePort();
      Path dir = TestPaths.newFolder("kafka");
      Path logs = Files.createDirectories(dir.resolve("logs"));
      Properties props = new Properties();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      props.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
      props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
      props.put("controller.listener.names", "CONTROLLER");
      props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("inter.broker.listener.name", "PLAINTEXT");
      props.put("log.dirs", logs.toString());
      props.put("num.partitions", "1");
      props.put("auto.create.topics.enable", "false");
      props.put("offsets.topic.replication.factor", "1");
      props.put("offsets.topic.num.partitions", "2");
      props.put("transaction.state.log.replication.factor", "1");
      props.put("transaction.state.log.min.isr", "1");
      props.put("transaction.state.log.num.partitions", "2");
      props.put("group.initial.rebalance.delay.ms", "0");
      props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
      props.putAll(overrides);
      Path config = dir.resolve("server.properties");
      try (var out = Files.newBufferedWriter(config)) {
        props.store(out, "in-process test broker");
      }
      String clusterId = Uuid.randomUuid().toString();
      int rc =
          kafka.tools.StorageTool$.MODULE$.execute(
              new String[] {"format", "-t", clusterId, "-c", config.toString()},
              new PrintStream(PrintStream.nullOutputStream()));
      if (rc != 0) {
        throw new IllegalStateException("kafka-storage format failed with exit code " + rc);
      }
      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      server.startup();
      return new KafkaBroker(server, "127.0.0.1:" + brokerPort, props);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  /**
   * A broker of its own (not the shared one), for tests that stop it; the caller stops it. Its
   * storage and ports stay the same across {@link #restart()}.
   */
  public static KafkaBroker startPrivate() {
    return start(Map.of());
  }

  /** {@link #startPrivate()} with some broker settings of the test's own. */
  public static KafkaBroker startPrivate(Map<String, String> overrides) {
    return start(overrides);
  }

  /** Stops this broker (a controlled shutdown: its logs are flushed). Idempotent. */
  public synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    admin.close(Duration.ofSeconds(5));
    server.shutdown();
    server.awaitShutdown();
  }

  /** Starts a stopped broker again on the same storage and ports; returns the running broker. */
  public KafkaBroker restart() {
    stop();
    KafkaRaftServer again = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    again.startup();
    return new KafkaBroker(again, bootstrapServers, props);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** A new topic with a unique name, ready for producers. */
  public String newTopic(String prefix, int partitions) {
    String name = Names.unique(prefix);
    createTopic(name, partitions);
    return name;
  }

  /**
   * Creates {@code name} and waits until every partition has a leader: producing before that can
   * loop on sequence errors and lose records.
   */
  public void createTopic(String name, int partitions) {
    try {
      admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Could not create topic " + name, e.getCause());
    }
    try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_uncommitted")) {
      consumer.endOffsets(partitions(name, partitions), Duration.ofSeconds(30));
    }
  }

  public Admin admin() {
    return admin;
  }

  /** Producer settings pointing at this broker, with byte-array serializers. */
  public Map<String, Object> producerConfig() {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** A consumer (no group) with the given {@code isolation.level}; the caller closes it. */
  public KafkaConsumer<byte[], byte[]> consumer(String isolationLevel) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * Every record of {@code topic} that a consumer with {@code isolationLevel} can see now, read
   * from the beginning up to the current end of each partition.
   */
  public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, String isolationLevel) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(isolationLevel)) {
      List<TopicPartition> parts =
          consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("Timed out reading " + topic + " up to " + end);
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
        batch.forEach(out::add);
      }
      return out;
    }
  }

  /**
   * How often each key of {@code topic} occurs (uncommitted records included), for topics whose
   * keys are decimal numbers; ordered by key.
   */
  public java.util.SortedMap<Long, Long> countsPerNumericKey(String topic) {
    return countsPerNumericKey(topic, "read_uncommitted");
  }

  /** {@link #countsPerNumericKey(String)} as a consumer with {@code isolationLevel} sees it. */
  public java.util.SortedMap<Long, Long> countsPerNumericKey(String topic, String isolationLevel) {
    java.util.SortedMap<Long, Long> perKey = new java.util.TreeMap<>();
    for (ConsumerRecord<byte[], byte[]> r : readAll(topic, isolationLevel)) {
      perKey.merge(
          Long.parseLong(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8)),
          1L,
          Long::sum);
    }
    return perKey;
  }

  private static List<TopicPartition> partitions(String topic, int count) {
    List<TopicPartition> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new TopicPartition(topic, i));
    }
    return out;
  }
}
