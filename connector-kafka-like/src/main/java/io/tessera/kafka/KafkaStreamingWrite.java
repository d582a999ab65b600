package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.write.MicroBatchOnly;
import java.util.List;
import org.apache.spark.sql.connector.write.PhysicalWriteInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory;
import org.apache.spark.sql.connector.write.streaming.StreamingWrite;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of a streaming write. At-least-once: an epoch is committed in the checkpoint only
 * after all its records were acknowledged; an epoch replayed after a crash is sent again.
 *
 * <p>Exactly-once ({@code stream} set): each epoch's records wait in the task attempts' open
 * transactions; {@link #commit} records the epoch with its chosen transactions in the ledger and
 * commits them. An epoch the ledger shows as committed already (Spark replays the last epoch when
 * the query died between the Kafka commit and its checkpoint) has its new transactions aborted, so
 * {@code read_committed} consumers see it once.
 */
final class KafkaStreamingWrite implements StreamingWrite {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaStreamingWrite.class);

  private final String tableName;
  private final KafkaWriterFactory factory;
  private final ExactlyOnceStreams.Stream stream;
  private final String token;
  private final String queryId;

  /** Test hook: the query dies after committing this epoch to Kafka, before its checkpoint. */
  private static volatile long failAfterEpochForTests = -1;

  static void failAfterEpochForTests(long epoch) {
    failAfterEpochForTests = epoch;
  }

  KafkaStreamingWrite(
      String tableName,
      KafkaWriterFactory factory,
      ExactlyOnceStreams.Stream stream,
      String token,
      String queryId) {
    this.tableName = tableName;
    this.factory = factory;
    this.stream = stream;
    this.token = token;
    this.queryId = queryId;
  }

  @Override
  public StreamingDataWriterFactory createStreamingWriterFactory(PhysicalWriteInfo info) {
    if (stream != null) {
      MicroBatchOnly.checkDriver("tessera-kafka with delivery=exactly-once");
    }
    return factory;
  }

  @Override
  public void commit(long epochId, WriterCommitMessage[] messages) {
    if (stream == null) {
      LOG.info(
          "tessera-kafka: epoch {} of {}: {} records acknowledged",
          epochId,
          tableName,
          KafkaBatchWrite.records(messages));
      return;
    }
    ExactlyOnceCommitter committer = stream.committer();
    List<OpenTransactions.Handle> transactions = KafkaBatchWrite.transactions(messages);
    synchronized (stream) {
      long last = stream.lastEpoch();
      if (epochId < last) {
        committer.abort(token, transactions);
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "Epoch "
                + epochId
                + " of query "
                + queryId
                + " is older than epoch "
                + last
                + ", which the ledger shows committed to "
                + tableName
                + ": the checkpoint is older than the topic (restored from a copy?). Nothing of"
                + " epoch "
                + epochId
                + " was committed. Resume from the latest checkpoint, or start a new query with a"
                + " new checkpoint location");
      }
      if (epochId == last) {
        committer.abort(token, transactions);
        LOG.warn(
            "tessera-kafka: epoch {} of {} was committed before the query stopped; its replay"
                + " is aborted, so read_committed consumers see it once",
            epochId,
            tableName);
        return;
      }
      KafkaBatchWrite.warnNearTimeout(messages, committer.transactionTimeoutMs(), tableName);
      committer.commit(token, transactions, queryId, epochId, true);
      stream.committed(epochId);
    }
    if (failAfterEpochForTests == epochId) {
      failAfterEpochForTests = -1;
      throw new IllegalStateException(
          "injected: the query dies after the Kafka commit of epoch " + epochId);
    }
    LOG.info(
        "tessera-kafka: epoch {} of {}: {} records committed (delivery=exactly-once)",
        epochId,
        tableName,
        KafkaBatchWrite.records(messages));
  }

  @Override
  public void abort(long epochId, WriterCommitMessage[] messages) {
    if (stream != null) {
      stream.committer().abort(token, KafkaBatchWrite.transactions(messages));
      LOG.warn(
          "tessera-kafka: epoch {} of {} failed; its transactions were aborted and it is sent"
              + " again when the query restarts",
          epochId,
          tableName);
      return;
    }
    LOG.warn(
        "tessera-kafka: epoch {} of {} failed; it will be sent again when the query restarts"
            + " (delivery=at-least-once)",
        epochId,
        tableName);
  }
}
