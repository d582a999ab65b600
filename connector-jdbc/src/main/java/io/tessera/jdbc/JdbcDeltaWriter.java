package io.tessera.jdbc;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.apache.spark.sql.connector.write.DeltaWriter;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * Executor side, one per task attempt of a row-level write: stages each delete, update and insert
 * as one row of the write's staging table (through a {@link JdbcDataWriter}, so tagged with the
 * attempt and invisible until the driver's publish). An update that changes the key is staged as a
 * delete of the old key and an insert of the new row.
 */
final class JdbcDeltaWriter implements DeltaWriter<InternalRow> {
  private final JdbcDataWriter out;
  private final int[] keyOrdinals;
  private final DataType[] keyTypes;
  private final DataType versionType;
  private final int width;

  /** The operation and the row version, after the table's columns; reused for every row. */
  private final GenericInternalRow tail = new GenericInternalRow(2);

  private final GenericInternalRow keyOnly;
  private final JoinedRow joined = new JoinedRow();

  JdbcDeltaWriter(JdbcDataWriter out, StructType stagedSchema, int[] keyOrdinals) {
    this.out = out;
    this.keyOrdinals = keyOrdinals;
    this.width = stagedSchema.size() - 2;
    this.keyTypes = new DataType[keyOrdinals.length];
    for (int i = 0; i < keyOrdinals.length; i++) {
      keyTypes[i] = stagedSchema.fields()[keyOrdinals[i]].dataType();
    }
    this.versionType = stagedSchema.fields()[width + 1].dataType();
    this.keyOnly = new GenericInternalRow(width);
  }

  @Override
  public void delete(InternalRow metadata, InternalRow id) {
    stageDelete(metadata, id, DeltaRows.DELETE);
  }

  private void stageDelete(InternalRow metadata, InternalRow id, int operation) {
    for (int i = 0; i < keyOrdinals.length; i++) {
      keyOnly.update(keyOrdinals[i], id.get(i, keyTypes[i]));
    }
    stage(keyOnly, operation, metadata);
  }

  @Override
  public void update(InternalRow metadata, InternalRow id, InternalRow row) {
    if (sameKey(id, row)) {
      stage(row, DeltaRows.UPDATE, metadata);
    } else {
      stageDelete(metadata, id, DeltaRows.KEY_CHANGE_DELETE);
      stage(row, DeltaRows.KEY_CHANGE_INSERT, null);
    }
  }

  @Override
  public void reinsert(InternalRow metadata, InternalRow row) {
    insert(row);
  }

  @Override
  public void insert(InternalRow row) {
    stage(row, DeltaRows.INSERT, null);
  }

  private void stage(InternalRow row, int operation, InternalRow metadata) {
    tail.setInt(0, operation);
    if (metadata == null || metadata.isNullAt(0)) {
      tail.setNullAt(1);
    } else {
      tail.update(1, metadata.get(0, versionType));
    }
    out.write(joined.apply(row, tail));
  }

  /** Whether the update keeps the row's key, compared as Spark compares values. */
  private boolean sameKey(InternalRow id, InternalRow row) {
    for (int i = 0; i < keyOrdinals.length; i++) {
      Object before = id.get(i, keyTypes[i]);
      Object after = row.get(keyOrdinals[i], keyTypes[i]);
      boolean same =
          keyTypes[i] instanceof BinaryType
              ? java.util.Arrays.equals((byte[]) before, (byte[]) after)
              : java.util.Objects.equals(before, after);
      if (!same) {
        return false;
      }
    }
    return true;
  }

  @Override
  public JdbcCommitMessage commit() {
    return out.commit();
  }

  @Override
  public void abort() {
    out.abort();
  }

  @Override
  public void close() {
    out.close();
  }

  @Override
  public CustomTaskMetric[] currentMetricsValues() {
    return out.currentMetricsValues();
  }
}
