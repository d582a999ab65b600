package io.tessera.kafka;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;

/**
 * Shipped to executors (Java-serialized): the producer settings, the default topic and where each
 * Kafka field sits in the row. Holds no SparkSession and no catalog.
 */
final class KafkaWriterFactory implements DataWriterFactory, StreamingDataWriterFactory {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final KafkaSchema schema;
  private final Map<String, Object> producerConfig;
  private final List<String> secrets;

  KafkaWriterFactory(
      String topic, KafkaSchema schema, Map<String, Object> producerConfig, List<String> secrets) {
    this.topic = topic;
    this.schema = schema;
    this.producerConfig = Map.copyOf(producerConfig);
    this.secrets = List.copyOf(secrets);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new KafkaDataWriter(partitionId, topic, schema, producerConfig, secrets);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId, long epochId) {
    return createWriter(partitionId, taskId);
  }
}
