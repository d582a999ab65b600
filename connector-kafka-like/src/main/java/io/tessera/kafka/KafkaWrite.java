package io.tessera.kafka;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.options.ParsedOptions;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.Write;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;

/** One logical write to Kafka, its schema validated and options resolved. */
public class KafkaWrite implements Write {
  private final String tableName;
  private final String topic;
  private final KafkaSchema schema;
  private final ParsedOptions options;
  private final Map<String, Object> producerConfig;
  private final String queryId;
  private final AtomicLong commitMillis = new AtomicLong(-1);
  private final AtomicLong retries = new AtomicLong();

  KafkaWrite(
      String tableName,
      String topic,
      KafkaSchema schema,
      ParsedOptions options,
      Map<String, Object> producerConfig,
      String queryId) {
    this.tableName = tableName;
    this.topic = topic;
    this.schema = schema;
    this.options = options;
    this.producerConfig = producerConfig;
    this.queryId = queryId;
  }

  boolean exactlyOnce() {
    return options.get(KafkaWriteOptions.DELIVERY) == KafkaWriteOptions.Delivery.EXACTLY_ONCE;
  }

  ExactlyOnceCommitter committer() {
    return new ExactlyOnceCommitter(
        tableName,
        options.get(KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX),
        options.get(KafkaWriteOptions.LEDGER_TOPIC),
        producerConfig,
        options.secretValues());
  }

  /** Shown in EXPLAIN and the Spark UI; secrets (e.g. kafka.sasl.jaas.config) are redacted. */
  @Override
  public String description() {
    return "tessera-kafka["
        + tableName
        + ", topic="
        + (topic == null ? "(per row)" : topic)
        + (exactlyOnce() ? ", delivery=exactly-once" : ", delivery=at-least-once")
        + ", options="
        + options.describe()
        + "]";
  }

  KafkaWriterFactory factory() {
    return new KafkaWriterFactory(topic, schema, producerConfig, options.secretValues(), null);
  }

  @Override
  public BatchWrite toBatch() {
    if (!exactlyOnce()) {
      return new KafkaBatchWrite(tableName, factory(), commitMillis, retries, null, null);
    }
    // Before any task runs: finish or abort what an earlier write under the prefix left open.
    ExactlyOnceCommitter committer = committer();
    committer.recover();
    String token = ExactlyOnceCommitter.newToken();
    return new KafkaBatchWrite(
        tableName,
        factory().withTransactionalIdBase(committer.idBase(token)),
        commitMillis,
        retries,
        committer,
        token);
  }

  @Override
  public StreamingWrite toStreaming() {
    if (!exactlyOnce()) {
      return new KafkaStreamingWrite(tableName, factory(), null, null, null);
    }
    ExactlyOnceStreams.Stream stream =
        ExactlyOnceStreams.prepare(
            producerConfig.get(
                    org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)
                + "|"
                + options.get(KafkaWriteOptions.LEDGER_TOPIC),
            options.get(KafkaWriteOptions.TRANSACTIONAL_ID_PREFIX),
            queryId,
            this::committer);
    String token = ExactlyOnceCommitter.newToken();
    return new KafkaStreamingWrite(
        tableName,
        factory().withTransactionalIdBase(stream.committer().idBase(token)),
        stream,
        token,
        queryId);
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return TesseraMetrics.supportedWithRetries();
  }

  @Override
  public CustomTaskMetric[] reportDriverMetrics() {
    long ms = commitMillis.get();
    return ms < 0
        ? new CustomTaskMetric[0]
        : new CustomTaskMetric[] {
          TesseraMetrics.value(TesseraMetrics.COMMIT_DURATION_MS, ms),
          TesseraMetrics.value(TesseraMetrics.RECORDS_RETRIED, retries.get())
        };
  }

  @Override
  public String toString() {
    return description();
  }
}
