package io.tessera.file.log;

import java.util.List;

/**
 * One commit: {@code _tessera/log/<version>.json}. Lists the files it adds and removes, the
 * operation, new metadata (version 0 and schema changes), and for streaming the (query, epoch) it
 * commits, so a replayed epoch is recognised. {@code staged} maps each added file's table path to
 * the staging path it waits at until the commit's moves are done (written ahead of them); it is
 * null in entries written before Tessera moved files after the commit point.
 */
public record LogEntry(
    long version,
    long timestamp,
    String operation,
    TableMetadata metadata,
    List<AddFile> add,
    List<String> remove,
    StreamingEpoch streaming,
    java.util.Map<String, String> staged) {

  /** An entry that moves no file (create, alter table). */
  public LogEntry(
      long version,
      long timestamp,
      String operation,
      TableMetadata metadata,
      List<AddFile> add,
      List<String> remove,
      StreamingEpoch streaming) {
    this(version, timestamp, operation, metadata, add, remove, streaming, java.util.Map.of());
  }

  /** A streaming query's epoch. */
  public record StreamingEpoch(String queryId, long epochId) {}
}
