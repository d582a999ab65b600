package io.tessera.file.log;

import java.util.List;

/**
 * One commit: {@code _tessera/log/<version>.json}. Lists the files it adds and removes, the
 * operation, new metadata (version 0 and schema changes), and for streaming the (query, epoch) it
 * commits, so a replayed epoch is recognised.
 */
public record LogEntry(
    long version,
    long timestamp,
    String operation,
    TableMetadata metadata,
    List<AddFile> add,
    List<String> remove,
    StreamingEpoch streaming) {

  /** A streaming query's epoch. */
  public record StreamingEpoch(String queryId, long epochId) {}
}
