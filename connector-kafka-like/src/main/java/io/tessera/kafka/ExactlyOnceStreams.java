package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.write.StreamingQueries;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's state of each exactly-once streaming sink (one per transactional id prefix): the
 * last epoch it committed. Spark builds a new write for every micro-batch; only the first one of a
 * query run (a start or restart gets a new run id) reads the ledger and recovers, so later
 * micro-batches pay nothing for it.
 */
final class ExactlyOnceStreams {
  private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceStreams.class);

  /** Keyed by brokers, ledger topic and prefix. */
  private static final Map<String, Stream> STREAMS = new java.util.concurrent.ConcurrentHashMap<>();

  private static final Map<String, Object> LOCKS = new java.util.concurrent.ConcurrentHashMap<>();

  private ExactlyOnceStreams() {}

  /** One run of one query writing under one prefix. */
  static final class Stream {
    private final String queryId;
    private final UUID runId;
    private final ExactlyOnceCommitter committer;
    private long lastEpoch;

    Stream(String queryId, UUID runId, ExactlyOnceCommitter committer, long lastEpoch) {
      this.queryId = queryId;
      this.runId = runId;
      this.committer = committer;
      this.lastEpoch = lastEpoch;
    }

    ExactlyOnceCommitter committer() {
      return committer;
    }

    /** The last epoch of this query committed under the prefix, or -1. Guarded by this. */
    long lastEpoch() {
      return lastEpoch;
    }

    void committed(long epoch) {
      lastEpoch = epoch;
    }
  }

  /**
   * The sink's state for this run of query {@code queryId}; at the first micro-batch of a run,
   * completes and aborts what the ledger and the brokers hold from before.
   */
  static Stream prepare(
      String sink, String prefix, String queryId, Supplier<ExactlyOnceCommitter> committer) {
    UUID runId = StreamingQueries.runId(queryId);
    String key = sink + "|" + prefix;
    // Recovery talks to the brokers: other sinks' micro-batches do not wait for it.
    synchronized (LOCKS.computeIfAbsent(key, k -> new Object())) {
      Stream known = STREAMS.get(key);
      if (known != null && runId != null && runId.equals(known.runId)) {
        return known;
      }
      if (known != null
          && !known.queryId.equals(queryId)
          && StreamingQueries.runId(known.queryId) != null) {
        throw new TesseraException(
            TesseraError.INVALID_OPTION_VALUE,
            "Option 'transactionalIdPrefix' has value '"
                + prefix
                + "', which running streaming query "
                + known.queryId
                + " uses already: two sinks under one prefix would abort each other's"
                + " transactions. Give each query its own prefix; nothing was written");
      }
      ExactlyOnceCommitter c = committer.get();
      Optional<TransactionLedger.Entry> last = c.recover();
      long lastEpoch =
          last.filter(e -> queryId != null && queryId.equals(e.queryId()))
              .map(TransactionLedger.Entry::epoch)
              .orElse(-1L);
      long interval = StreamingQueries.triggerIntervalMs(queryId);
      if (interval >= c.transactionTimeoutMs()) {
        LOG.warn(
            "tessera-kafka: the trigger interval ({} ms) is not below kafka.transaction.timeout.ms"
                + " ({} ms): a micro-batch that runs as long as its interval will fail. Raise"
                + " kafka.transaction.timeout.ms (and the brokers' transaction.max.timeout.ms)",
            interval,
            c.transactionTimeoutMs());
      }
      Stream stream = new Stream(queryId, runId, c, lastEpoch);
      STREAMS.put(key, stream);
      return stream;
    }
  }
}
