package io.tessera.jdbc;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.write.WriteMode;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.connector.distributions.Distribution;
import org.apache.spark.sql.connector.distributions.Distributions;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.SortOrder;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.BatchWrite;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.RequiresDistributionAndOrdering;
import org.apache.spark.sql.connector.write.Write;

/**
 * One logical write into a {@link JdbcTable}, with its mode and options decided. With option {@code
 * numPartitions} it asks Spark for at most that many writing tasks (each task holds one connection,
 * so 500 partitions would otherwise need 500 connections at once).
 */
public class JdbcWrite implements Write, RequiresDistributionAndOrdering {
  private final JdbcTable table;
  private final LogicalWriteInfo info;
  private final ParsedOptions options;
  private final WriteMode mode;
  private final List<String> partitionKeys;
  private final AtomicLong commitMillis = new AtomicLong(-1);

  JdbcWrite(
      JdbcTable table,
      LogicalWriteInfo info,
      ParsedOptions options,
      WriteMode mode,
      List<String> partitionKeys) {
    this.table = table;
    this.info = info;
    this.options = options;
    this.mode = mode;
    this.partitionKeys = partitionKeys;
  }

  /** Shown in {@code EXPLAIN} and the Spark UI; never contains the password. */
  @Override
  public String description() {
    return "tessera-jdbc["
        + table.name()
        + ", "
        + table.dialect().name()
        + ", mode="
        + mode.describe()
        + (partitionKeys.isEmpty() ? "" : " by " + String.join(", ", partitionKeys))
        + ", options="
        + options.describe()
        + "]";
  }

  @Override
  public Distribution requiredDistribution() {
    if (options.get(JdbcWriteOptions.NUM_PARTITIONS) == 0) {
      return Distributions.unspecified();
    }
    // Spark cannot coalesce for a write; a hash of all columns spreads rows over the partitions.
    return Distributions.clustered(
        Arrays.stream(info.schema().fieldNames())
            .map(Expressions::column)
            .toArray(Expression[]::new));
  }

  @Override
  public int requiredNumPartitions() {
    return options.get(JdbcWriteOptions.NUM_PARTITIONS);
  }

  @Override
  public SortOrder[] requiredOrdering() {
    return new SortOrder[0];
  }

  @Override
  public BatchWrite toBatch() {
    return new JdbcBatchWrite(table, info, options, mode, partitionKeys, commitMillis);
  }

  /**
   * One micro-batch of a streaming query, published as an atomic write and recorded with its epoch.
   * Only the atomic commit can be exactly-once: {@code commit=direct} is refused in the builder.
   */
  @Override
  public org.apache.spark.sql.connector.write.streaming.StreamingWrite toStreaming() {
    return new JdbcStreamingWrite(
        info.queryId(),
        new JdbcBatchWrite(table, info, options, mode, partitionKeys, commitMillis)
            .streaming(info.queryId()));
  }

  @Override
  public CustomMetric[] supportedCustomMetrics() {
    return TesseraMetrics.supported();
  }

  @Override
  public CustomTaskMetric[] reportDriverMetrics() {
    long ms = commitMillis.get();
    return ms < 0 ? new CustomTaskMetric[0] : TesseraMetrics.driverMetrics(ms);
  }

  @Override
  public String toString() {
    return description();
  }
}
