package io.tessera.file;

import io.tessera.file.log.ColumnStats;
import java.io.Serializable;
import java.util.Map;

/**
 * A file a task attempt wrote under the write's staging folder: where it is staged, the path it
 * gets in the table (relative to the root), its partition values, size, rows and column statistics
 * (null when unknown).
 */
record StagedFile(
    String stagedPath,
    String tablePath,
    Map<String, String> partition,
    long size,
    long rows,
    Map<String, ColumnStats> stats)
    implements Serializable {}
