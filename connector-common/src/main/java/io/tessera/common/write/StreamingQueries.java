package io.tessera.common.write;

import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.ProcessingTimeTrigger;
import org.apache.spark.sql.execution.streaming.runtime.StreamExecution;
import org.apache.spark.sql.streaming.OutputMode;

/**
 * What the driver can learn about the streaming query a write belongs to. Spark tells a sink its
 * query id only, builds an update-mode write exactly like an append, and does not say which run of
 * the query (a restart gets a new run id) or which trigger; the running query, registered in the
 * session's shared state, knows all three.
 */
public final class StreamingQueries {
  private StreamingQueries() {}

  /** The output mode of the running streaming query {@code queryId}, or null for a batch write. */
  public static OutputMode outputMode(String queryId) {
    StreamExecution query = running(queryId);
    return query == null ? null : query.outputMode();
  }

  /** The run id of the running query {@code queryId} (new at each start), or null. */
  public static UUID runId(String queryId) {
    StreamExecution query = running(queryId);
    return query == null ? null : query.runId();
  }

  /** The interval of a {@code Trigger.ProcessingTime} query in ms, else 0. */
  public static long triggerIntervalMs(String queryId) {
    StreamExecution query = running(queryId);
    return query != null && query.trigger() instanceof ProcessingTimeTrigger t ? t.intervalMs() : 0;
  }

  private static StreamExecution running(String queryId) {
    UUID id;
    try {
      id = UUID.fromString(queryId);
    } catch (IllegalArgumentException | NullPointerException notAQueryId) {
      return null;
    }
    SparkSession active = SparkSession.active();
    if (!(active instanceof org.apache.spark.sql.classic.SparkSession classic)) {
      return null;
    }
    return classic.sharedState().activeStreamingQueries().get(id);
  }
}
