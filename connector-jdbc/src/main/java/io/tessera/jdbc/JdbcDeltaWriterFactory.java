package io.tessera.jdbc;

import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.write.DeltaWriter;
import org.apache.spark.sql.connector.write.DeltaWriterFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Shipped to executors (Java-serialized): a {@link JdbcWriterFactory} that loads the staging table
 * of a row-level write, and where the table's key columns are in a row.
 */
final class JdbcDeltaWriterFactory implements DeltaWriterFactory {
  private static final long serialVersionUID = 1L;

  private final JdbcWriterFactory staging;
  private final StructType stagedSchema;
  private final int[] keyOrdinals;

  /**
   * @param stagedSchema the table's columns, then the operation and the row version columns
   */
  JdbcDeltaWriterFactory(JdbcWriterFactory staging, StructType stagedSchema, List<String> keys) {
    this.staging = staging;
    this.stagedSchema = stagedSchema;
    this.keyOrdinals = keys.stream().mapToInt(stagedSchema::fieldIndex).toArray();
  }

  @Override
  public DeltaWriter<InternalRow> createWriter(int partitionId, long taskId) {
    return new JdbcDeltaWriter(
        (JdbcDataWriter) staging.createWriter(partitionId, taskId), stagedSchema, keyOrdinals);
  }
}
