package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.redact.Redaction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The driver's durable record of what it is about to commit, in a compacted topic keyed by the
 * transactional id prefix (one sink): before completing any transaction, the write's chosen
 * transactions ({@link Entry.State#COMMITTING}); after completing all, {@link Entry.State#DONE}. A
 * later write or restarted query under the same prefix reads the last entry and completes a
 * COMMITTING one first. Compaction keeps one entry per prefix.
 *
 * <p>Values are UTF-8 lines, {@code name=value}, then one {@code txn=<id> <producer id> <epoch>}
 * per transaction. Transactional ids are made of the prefix (letters, digits, '-', '_') and
 * Tessera's own parts, so they hold no space or line break.
 */
final class TransactionLedger {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final Set<String> CREATED = ConcurrentHashMap.newKeySet();

  /** The last thing the driver recorded for one prefix. */
  record Entry(
      State state,
      String writeToken,
      String queryId,
      long epoch,
      List<OpenTransactions.Handle> transactions) {
    enum State {
      COMMITTING,
      DONE
    }

    Entry {
      transactions = List.copyOf(transactions);
    }

    Entry done() {
      return new Entry(State.DONE, writeToken, queryId, epoch, transactions);
    }

    byte[] encode() {
      StringBuilder s = new StringBuilder("v=1\n");
      s.append("state=").append(state).append('\n');
      s.append("write=").append(writeToken).append('\n');
      s.append("query=").append(queryId == null ? "" : queryId).append('\n');
      s.append("epoch=").append(epoch).append('\n');
      // The ids of one write share their start: written once, so that an entry stays small
      // (about 20 bytes per transaction) even for tens of thousands of partitions.
      String base = commonStart();
      s.append("base=").append(base).append('\n');
      for (OpenTransactions.Handle h : transactions) {
        s.append("txn=")
            .append(h.transactionalId().substring(base.length()))
            .append(' ')
            .append(h.producerId())
            .append(' ')
            .append(h.epoch())
            .append('\n');
      }
      return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    private String commonStart() {
      if (transactions.isEmpty()) {
        return "";
      }
      String first = transactions.get(0).transactionalId();
      int end = first.length();
      for (OpenTransactions.Handle h : transactions) {
        String id = h.transactionalId();
        int i = 0;
        while (i < end && i < id.length() && id.charAt(i) == first.charAt(i)) {
          i++;
        }
        end = i;
      }
      return first.substring(0, end);
    }

    static Entry decode(byte[] value) {
      Map<String, String> fields = new HashMap<>();
      List<OpenTransactions.Handle> txns = new ArrayList<>();
      for (String line : new String(value, StandardCharsets.UTF_8).split("\n")) {
        int eq = line.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String name = line.substring(0, eq);
        String v = line.substring(eq + 1);
        if (name.equals("txn")) {
          String[] parts = v.split(" ");
          txns.add(
              new OpenTransactions.Handle(
                  fields.getOrDefault("base", "") + parts[0],
                  Long.parseLong(parts[1]),
                  Short.parseShort(parts[2])));
        } else {
          fields.put(name, v);
        }
      }
      String query = fields.getOrDefault("query", "");
      return new Entry(
          State.valueOf(fields.get("state")),
          fields.get("write"),
          query.isEmpty() ? null : query,
          Long.parseLong(fields.getOrDefault("epoch", "-1")),
          txns);
    }
  }

  private final String topic;
  private final Map<String, Object> producerConfig;
  private final List<String> secrets;

  TransactionLedger(String topic, Map<String, Object> producerConfig, List<String> secrets) {
    this.topic = topic;
    this.producerConfig = producerConfig;
    this.secrets = secrets;
  }

  String topic() {
    return topic;
  }

  /** The connection and security settings of the producer, for another kind of client. */
  static Map<String, Object> clientConfig(
      Map<String, Object> producerConfig, Set<String> clientNames) {
    Map<String, Object> config = new HashMap<>();
    producerConfig.forEach(
        (k, v) -> {
          boolean producerOnly =
              k.endsWith(".serializer")
                  || k.startsWith("transaction")
                  || k.equals(ProducerConfig.ACKS_CONFIG)
                  || k.equals(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG);
          if (!producerOnly
              && (clientNames.contains(k) || !ProducerConfig.configNames().contains(k))) {
            config.put(k, v);
          }
        });
    return config;
  }

  /** An admin client with the producer's connection settings; the caller closes it. */
  Admin admin() {
    try {
      return Admin.create(clientConfig(producerConfig, AdminClientConfig.configNames()));
    } catch (KafkaException e) {
      throw failed("Creating a Kafka admin client", e);
    }
  }

  /**
   * Creates the ledger topic unless it exists (checked once per JVM and brokers): one partition,
   * compacted. A topic created by an administrator is used as it is, if it has one partition.
   */
  void ensureTopic(Admin admin) {
    String key = producerConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG) + "/" + topic;
    if (CREATED.contains(key)) {
      return;
    }
    try {
      admin.describeTopics(List.of(topic)).allTopicNames().get();
      CREATED.add(key);
      return;
    } catch (ExecutionException e) {
      if (!(e.getCause()
          instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
        throw failed("Describing the ledger topic '" + topic + "'", e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("Describing the ledger topic '" + topic + "'", e);
    }
    NewTopic ledger =
        new NewTopic(topic, Optional.of(1), Optional.empty())
            .configs(
                Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG,
                    TopicConfig.CLEANUP_POLICY_COMPACT,
                    TopicConfig.SEGMENT_MS_CONFIG,
                    String.valueOf(Duration.ofHours(1).toMillis()),
                    TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG,
                    "0.1"));
    try {
      admin.createTopics(List.of(ledger)).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw failed("Creating the ledger topic '" + topic + "'", e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("Creating the ledger topic '" + topic + "'", e);
    }
    CREATED.add(key);
  }

  /** The last entry recorded for {@code prefix}, if any: the whole topic is read to its end. */
  Optional<Entry> read(String prefix) {
    Map<String, Object> config = clientConfig(producerConfig, ConsumerConfig.configNames());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    // Read to the end and stop: no waiting for records that are not there.
    config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
    byte[] key = prefix.getBytes(StandardCharsets.UTF_8);
    byte[] last = null;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      int partitions = consumer.partitionsFor(topic, TIMEOUT).size();
      if (partitions != 1) {
        // The last entry of a prefix is only well defined in one partition.
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "Ledger topic '"
                + topic
                + "' has "
                + partitions
                + " partitions; delivery=exactly-once needs it to have exactly one (Tessera creates"
                + " it so). Point option 'ledgerTopic' at another topic");
      }
      List<TopicPartition> parts = List.of(new TopicPartition(topic, 0));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (parts.stream().anyMatch(tp -> consumer.position(tp, TIMEOUT) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw failed(
              "Reading the ledger topic '" + topic + "'",
              new org.apache.kafka.common.errors.TimeoutException("not at its end after 60 s"));
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          if (r.key() != null && java.util.Arrays.equals(r.key(), key)) {
            last = r.value();
          }
        }
      }
    } catch (KafkaException e) {
      throw failed("Reading the ledger topic '" + topic + "'", e);
    }
    if (last == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Entry.decode(last));
    } catch (RuntimeException e) {
      throw failed("Reading the entry of '" + prefix + "' in the ledger topic '" + topic + "'", e);
    }
  }

  /** Records {@code entry} for {@code prefix}, returning once every in-sync replica has it. */
  void write(String prefix, Entry entry) {
    ProducerPool.Lease lease = null;
    boolean failed = true;
    try {
      lease = ProducerPool.acquire(ledgerProducerConfig());
      KafkaProducer<byte[], byte[]> p = lease.producer();
      p.send(
              new ProducerRecord<>(
                  topic, 0, prefix.getBytes(StandardCharsets.UTF_8), entry.encode()))
          .get();
      failed = false;
    } catch (ExecutionException e) {
      throw failed(
          "Recording " + entry.state() + " in the ledger topic '" + topic + "'", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failed("Recording " + entry.state() + " in the ledger topic '" + topic + "'", e);
    } catch (KafkaException e) {
      throw failed("Recording " + entry.state() + " in the ledger topic '" + topic + "'", e);
    } finally {
      if (lease != null) {
        lease.release(failed);
      }
    }
  }

  private Map<String, Object> ledgerProducerConfig() {
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    config.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    return config;
  }

  private TesseraException failed(String what, Throwable cause) {
    return new TesseraException(
        TesseraError.COMMIT_FAILED,
        what
            + " failed: "
            + Redaction.redactText(String.valueOf(cause), secrets)
            + ". delivery=exactly-once needs to create (or find), read and write this topic:"
            + " check the brokers, the ACLs, or choose another with option 'ledgerTopic'",
        Redaction.redactThrowable(cause, secrets));
  }
}
