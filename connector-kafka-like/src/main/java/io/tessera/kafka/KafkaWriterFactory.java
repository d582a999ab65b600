package io.tessera.kafka;

import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;

/**
 * Shipped to executors (Java-serialized): the producer settings, the default topic and where each
 * Kafka field sits in the row. Holds no SparkSession and no catalog. With delivery=exactly-once it
 * also carries the write's transactional id base ({@code <prefix>.<write token>}), from which each
 * task attempt makes its own id: base, epoch (streaming), partition, stage attempt and attempt
 * number, so that no two attempts ever share an id and fence each other.
 */
final class KafkaWriterFactory implements DataWriterFactory, StreamingDataWriterFactory {
  private static final long serialVersionUID = 2L;

  private final String topic;
  private final KafkaSchema schema;
  private final Map<String, Object> producerConfig;
  private final List<String> secrets;
  private final String transactionalIdBase;

  KafkaWriterFactory(
      String topic,
      KafkaSchema schema,
      Map<String, Object> producerConfig,
      List<String> secrets,
      String transactionalIdBase) {
    this.topic = topic;
    this.schema = schema;
    this.producerConfig = Map.copyOf(producerConfig);
    this.secrets = List.copyOf(secrets);
    this.transactionalIdBase = transactionalIdBase;
  }

  /** The same factory for another write token (each micro-batch of a query has its own). */
  KafkaWriterFactory withTransactionalIdBase(String base) {
    return new KafkaWriterFactory(topic, schema, producerConfig, secrets, base);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return writer(partitionId, null);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId, long epochId) {
    return writer(partitionId, "e" + epochId);
  }

  private KafkaDataWriter writer(int partitionId, String epoch) {
    String transactionalId = null;
    if (transactionalIdBase != null) {
      TaskContext task = TaskContext.get();
      transactionalId =
          transactionalIdBase
              + (epoch == null ? "" : "." + epoch)
              + "."
              + partitionId
              + "."
              + (task == null ? 0 : task.stageAttemptNumber())
              + "."
              + (task == null ? 0 : task.attemptNumber());
    }
    return new KafkaDataWriter(
        partitionId, topic, schema, producerConfig, secrets, transactionalId);
  }
}
