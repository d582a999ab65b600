package io.tessera.kafka;

import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of a streaming write, at-least-once: an epoch is committed in the checkpoint only
 * after all its records were acknowledged; an epoch replayed after a crash is sent again.
 */
final class KafkaStreamingWrite implements StreamingWrite {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaStreamingWrite.class);

  private final String tableName;
  private final KafkaWriterFactory factory;

  KafkaStreamingWrite(String tableName, KafkaWriterFactory factory) {
    this.tableName = tableName;
    this.factory = factory;
  }

  @Override
  public StreamingDataWriterFactory createStreamingWriterFactory(PhysicalWriteInfo info) {
    return factory;
  }

  @Override
  public void commit(long epochId, WriterCommitMessage[] messages) {
    LOG.info(
        "tessera-kafka: epoch {} of {}: {} records acknowledged",
        epochId,
        tableName,
        KafkaBatchWrite.records(messages));
  }

  @Override
  public void abort(long epochId, WriterCommitMessage[] messages) {
    LOG.warn(
        "tessera-kafka: epoch {} of {} failed; it will be sent again when the query restarts"
            + " (delivery=at-least-once)",
        epochId,
        tableName);
  }
}
