package io.tessera.file.log;

import java.util.List;
import java.util.Map;

/** The whole state at {@code version}, so reading the table never replays more than N entries. */
public record Checkpoint(
    long version, TableMetadata metadata, List<AddFile> files, Map<String, Long> streaming) {}
