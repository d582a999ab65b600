package io.tessera.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.KafkaBroker;
import io.tessera.testing.Names;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The adapter that completes another producer's open transaction, against a real broker. It relies
 * on kafka-clients internals: if an upgrade breaks them, this fails first and loudly.
 */
class OpenTransactionsIT {
  private final KafkaBroker broker = KafkaBroker.shared();

  /** A task attempt: begins a transaction, sends, flushes, and leaves it open. */
  private OpenTransactions.Handle leaveOpen(
      String topic, String transactionalId, String... values) {
    Map<String, Object> config = new HashMap<>(broker.producerConfig());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(config);
    p.initTransactions();
    p.beginTransaction();
    for (String v : values) {
      p.send(new ProducerRecord<>(topic, v.getBytes(StandardCharsets.UTF_8)));
    }
    p.flush();
    OpenTransactions.Handle handle = OpenTransactions.handleOf(p, transactionalId);
    OpenTransactions.leaveOpen(p);
    return handle;
  }

  private List<String> values(String topic, String isolation) {
    return broker.readAll(topic, isolation).stream()
        .map(ConsumerRecord::value)
        .map(v -> new String(v, StandardCharsets.UTF_8))
        .sorted()
        .toList();
  }

  @Test
  void theKafkaClientsOnTheClassPathIsTheOneTheAdapterWasWrittenFor() {
    OpenTransactions.checkSupported();
    assertThat(org.apache.kafka.common.utils.AppInfoParser.getVersion())
        .as("kafka-clients changed: re-check OpenTransactions against its TransactionManager")
        .isEqualTo(OpenTransactions.SUPPORTED_CLIENT);
  }

  @Test
  void anotherProducerCommitsTheOpenTransaction() {
    String topic = broker.newTopic("otx", 1);
    String id = Names.unique("txn");
    OpenTransactions.Handle handle = leaveOpen(topic, id, "a", "b", "c");

    assertThat(values(topic, "read_uncommitted")).containsExactly("a", "b", "c");
    assertThat(values(topic, "read_committed")).as("open: invisible").isEmpty();

    OpenTransactions.commit(broker.producerConfig(), handle);
    assertThat(values(topic, "read_committed")).containsExactly("a", "b", "c");
    // Committing again (a driver retrying after a crash) changes nothing.
    OpenTransactions.commit(broker.producerConfig(), handle);
    assertThat(values(topic, "read_committed")).containsExactly("a", "b", "c");
  }

  @Test
  void anAbortedOrFencedTransactionIsNeverCommitted() {
    String topic = broker.newTopic("otx", 1);
    String id = Names.unique("txn");
    OpenTransactions.Handle handle = leaveOpen(topic, id, "x", "y");
    OpenTransactions.abort(broker.producerConfig(), id);
    assertThat(values(topic, "read_committed")).isEmpty();
    assertThatThrownBy(() -> OpenTransactions.commit(broker.producerConfig(), handle))
        .as("the epoch was fenced by the abort");
    assertThat(values(topic, "read_committed")).isEmpty();

    // A later transaction under the same id commits normally, alone.
    OpenTransactions.Handle next = leaveOpen(topic, id, "z");
    OpenTransactions.commit(broker.producerConfig(), next);
    assertThat(values(topic, "read_committed")).containsExactly("z");
  }
}
