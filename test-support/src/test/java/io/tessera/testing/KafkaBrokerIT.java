package io.tessera.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class KafkaBrokerIT {
  @Test
  void transactionalProduceIsSeenWholeByReadCommittedAndAbortedNever() {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = broker.newTopic("fixture", 3);

    Map<String, Object> config = broker.producerConfig();
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, Names.unique("txn"));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 30; i++) {
        producer.send(new ProducerRecord<>(topic, i % 3, null, ("c" + i).getBytes(UTF_8)));
      }
      producer.commitTransaction();

      producer.beginTransaction();
      for (int i = 0; i < 7; i++) {
        producer.send(new ProducerRecord<>(topic, i % 3, null, ("a" + i).getBytes(UTF_8)));
      }
      producer.flush();
      producer.abortTransaction();
    }

    var committed = broker.readAll(topic, "read_committed");
    assertThat(committed).hasSize(30);
    assertThat(committed)
        .extracting(r -> new String(r.value(), UTF_8))
        .allMatch(v -> v.startsWith("c"))
        .doesNotHaveDuplicates();
    assertThat(committed).extracting(ConsumerRecord::partition).containsOnly(0, 1, 2);
    assertThat(broker.readAll(topic, "read_uncommitted")).hasSize(37);
  }
}
