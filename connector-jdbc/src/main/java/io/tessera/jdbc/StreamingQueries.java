package io.tessera.jdbc;

import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.runtime.StreamExecution;
import org.apache.spark.sql.streaming.OutputMode;

/**
 * What the driver can learn about the streaming query a write belongs to. Spark tells a sink its
 * query id but not the output mode, and builds an update-mode write exactly like an append; the
 * running query, registered in the session's shared state, knows it.
 */
final class StreamingQueries {
  private StreamingQueries() {}

  /** The output mode of the running streaming query {@code queryId}, or null for a batch write. */
  static OutputMode outputMode(String queryId) {
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
    StreamExecution query = classic.sharedState().activeStreamingQueries().get(id);
    return query == null ? null : query.outputMode();
  }
}
