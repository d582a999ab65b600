package io.tessera.jdbc.dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Loads rows with a prepared INSERT sent in JDBC batches of {@code batchSize} rows, or sooner when
 * a batch holds {@link #MAX_BATCH_BYTES} (drivers keep a whole batch in memory: large TEXT/BLOB
 * values must not pile up).
 */
final class BatchInsertLoader implements BulkLoader {
  static final long MAX_BATCH_BYTES = 16L << 20;

  private final PreparedStatement statement;
  private final ValueBinder.Setter[] setters;
  private final DataType[] types;
  private final Long attempt;
  private final int batchSize;
  private int pending;
  private long rows;
  private long bytes;
  private long pendingBytes;

  BatchInsertLoader(
      JdbcDialect dialect,
      Connection connection,
      String qualifiedTable,
      StructType schema,
      Long attempt,
      int batchSize)
      throws SQLException {
    StructField[] fields = schema.fields();
    String columns =
        Arrays.stream(fields).map(f -> dialect.quote(f.name())).collect(Collectors.joining(", "));
    int params = fields.length + (attempt == null ? 0 : 1);
    if (attempt != null) {
      columns += ", " + dialect.quote(JdbcDialect.ATTEMPT_COLUMN);
    }
    String marks = String.join(", ", java.util.Collections.nCopies(params, "?"));
    this.statement =
        connection.prepareStatement(
            "INSERT INTO " + qualifiedTable + " (" + columns + ") VALUES (" + marks + ")");
    this.setters = new ValueBinder.Setter[fields.length];
    this.types = new DataType[fields.length];
    for (int i = 0; i < fields.length; i++) {
      types[i] = fields[i].dataType();
      setters[i] = dialect.setter(fields[i].name(), types[i]);
    }
    this.attempt = attempt;
    this.batchSize = batchSize;
  }

  @Override
  public void add(InternalRow row) throws SQLException {
    for (int i = 0; i < setters.length; i++) {
      setters[i].set(statement, i + 1, row, i);
      pendingBytes += ValueBinder.estimateBytes(types[i], row, i);
    }
    if (attempt != null) {
      statement.setLong(setters.length + 1, attempt);
    }
    statement.addBatch();
    rows++;
    if (++pending >= batchSize || pendingBytes >= MAX_BATCH_BYTES) {
      flush();
    }
  }

  @Override
  public void flush() throws SQLException {
    if (pending > 0) {
      statement.executeBatch();
      pending = 0;
      bytes += pendingBytes;
      pendingBytes = 0;
    }
  }

  @Override
  public void cancel() {
    try {
      statement.close();
    } catch (SQLException ignored) {
      // The connection is rolled back and closed next; nothing else to undo.
    }
  }

  @Override
  public long rows() {
    return rows;
  }

  @Override
  public long bytes() {
    return bytes + pendingBytes;
  }
}
