package io.tessera.jdbc;

import io.tessera.common.metrics.TesseraMetrics;
import io.tessera.jdbc.dialect.BulkLoader;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.jdbc.dialect.PreparedTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DataWriter;
import org.apache.spark.sql.types.StructType;

/**
 * Executor side, one per task attempt: streams the partition's rows into the table on its own
 * connection and transaction, and commits that transaction only in {@link #commit()}. In atomic
 * mode the table is the write's staging table, so nothing here is visible to readers of the target.
 */
final class JdbcDataWriter implements DataWriter<InternalRow> {
  private final JdbcConnector connector;
  private final String qualifiedTable;
  private final int partitionId;
  private final long taskId;
  private final Connection connection;
  private final BulkLoader loader;
  private final String[] keys;
  private final int[] keyOrdinals;
  private final String target;
  private final PreparedTransactions prepared;
  private final String gid;

  JdbcDataWriter(
      JdbcConnector connector,
      JdbcDialect dialect,
      String qualifiedTable,
      StructType schema,
      int batchSize,
      int partitionId,
      long taskId,
      Long attempt,
      String[] keys,
      String target,
      String gid) {
    this.connector = connector;
    this.qualifiedTable = qualifiedTable;
    this.partitionId = partitionId;
    this.taskId = taskId;
    this.keys = keys;
    this.keyOrdinals = java.util.Arrays.stream(keys).mapToInt(schema::fieldIndex).toArray();
    this.target = target;
    this.gid = gid;
    this.prepared = gid == null ? null : dialect.preparedTransactions();
    this.connection = connector.open();
    try {
      if (gid == null) {
        connection.setAutoCommit(false);
      } else {
        prepared.begin(connection, gid);
      }
      this.loader = dialect.newLoader(connection, qualifiedTable, schema, attempt, batchSize);
    } catch (SQLException e) {
      closeQuietly();
      throw connector.sqlFailed("Starting to load " + qualifiedTable + " failed", "", e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  @Override
  public void write(InternalRow row) {
    for (int i = 0; i < keyOrdinals.length; i++) {
      if (row.isNullAt(keyOrdinals[i])) {
        throw new io.tessera.common.errors.TesseraException(
            io.tessera.common.errors.TesseraError.NULL_UPSERT_KEY,
            "A row of the upsert into "
                + target
                + " has NULL in key column '"
                + keys[i]
                + "'; a NULL key matches no row (as in Spark, NULL = NULL is not true), so the"
                + " row could be neither updated nor told apart. Drop or fill such rows first,"
                + " e.g. df.na().drop(new String[] {\""
                + keys[i]
                + "\"}); nothing was written");
      }
    }
    try {
      loader.add(row);
    } catch (SQLException e) {
      throw failed("Loading rows into", e);
    }
  }

  @Override
  public JdbcCommitMessage commit() {
    try {
      loader.flush();
      if (gid == null) {
        connection.commit();
      } else if (loader.rows() == 0) {
        // Nothing to commit: no prepared transaction (MariaDB cannot commit an empty XA branch).
        prepared.rollbackUnprepared(connection, gid);
      } else {
        // The driver commits it if Spark chooses this attempt, and rolls it back otherwise.
        prepared.prepare(connection, gid);
      }
    } catch (SQLException e) {
      throw failed(gid == null ? "Committing rows into" : "Preparing the transaction of", e);
    }
    return new JdbcCommitMessage(partitionId, taskId, loader.rows(), loader.bytes());
  }

  @Override
  public void abort() {
    loader.cancel();
    try {
      if (gid == null) {
        connection.rollback();
      } else {
        prepared.rollbackUnprepared(connection, gid);
      }
    } catch (SQLException ignored) {
      // Closing the connection without commit discards the transaction anyway.
    }
  }

  @Override
  public void close() {
    closeQuietly();
  }

  private void closeQuietly() {
    try {
      connection.close();
    } catch (SQLException ignored) {
      // Nothing was committed that closing could lose.
    }
  }

  private RuntimeException failed(String what, SQLException e) {
    return connector.sqlFailed(
        what
            + " "
            + qualifiedTable
            + " (partition "
            + partitionId
            + ", task "
            + taskId
            + ") failed",
        "",
        e);
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return TesseraMetrics.taskMetrics(loader.rows(), loader.bytes());
  }
}
