package io.tessera.jdbc;

import io.tessera.jdbc.dialect.JdbcDialect;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.connector.write.DataWriterFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Shipped to executors (Java-serialized): how to reach the database and which table a task loads.
 * Holds no SparkSession and no catalog.
 */
final class JdbcWriterFactory
    implements DataWriterFactory,
        org.apache.spark.sql.connector.write.streaming.StreamingDataWriterFactory {
  private static final long serialVersionUID = 1L;

  private final JdbcConnector connector;
  private final JdbcDialect dialect;
  private final String qualifiedTable;
  private final StructType schema;
  private final int batchSize;
  private final boolean tagAttempts;
  private final String[] keys;
  private final String target;
  private String twoPhasePrefix;

  /** commit=two-phase: each attempt prepares its transaction under an id with this start. */
  JdbcWriterFactory twoPhase(String writePrefix) {
    this.twoPhasePrefix = writePrefix;
    return this;
  }

  /**
   * @param tagAttempts true when loading a staging table: each row carries its task attempt so the
   *     driver can publish exactly the attempts Spark committed
   * @param keys an upsert's key columns, which no row may leave NULL
   * @param target the table's name for messages
   */
  JdbcWriterFactory(
      JdbcConnector connector,
      JdbcDialect dialect,
      String qualifiedTable,
      StructType schema,
      int batchSize,
      boolean tagAttempts,
      java.util.List<String> keys,
      String target) {
    this.connector = connector;
    this.dialect = dialect;
    this.qualifiedTable = qualifiedTable;
    this.schema = schema;
    this.batchSize = batchSize;
    this.tagAttempts = tagAttempts;
    this.keys = keys.toArray(String[]::new);
    this.target = target;
  }

  /** A streaming task: its task id is unique per attempt, as in a batch write. */
  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId, long epochId) {
    io.tessera.common.write.MicroBatchOnly.checkTask("tessera-jdbc");
    return createWriter(partitionId, taskId);
  }

  @Override
  public DataWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new JdbcDataWriter(
        connector,
        dialect,
        qualifiedTable,
        schema,
        batchSize,
        partitionId,
        taskId,
        tagAttempts ? taskId : null,
        keys,
        target,
        twoPhasePrefix == null ? null : TwoPhaseCommit.gid(twoPhasePrefix, partitionId, taskId));
  }
}
