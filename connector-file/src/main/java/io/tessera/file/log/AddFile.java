package io.tessera.file.log;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * A data file that is part of the table: its path relative to the table root, its partition values
 * (unescaped, null for a null value), size, row count, and per-column statistics of its data
 * columns (null in entries written before Tessera recorded them, and for columns whose type has
 * none).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AddFile(
    String path,
    Map<String, String> partition,
    long size,
    long rows,
    Map<String, ColumnStats> stats) {

  /** A file without statistics. */
  public AddFile(String path, Map<String, String> partition, long size, long rows) {
    this(path, partition, size, rows, null);
  }
}
